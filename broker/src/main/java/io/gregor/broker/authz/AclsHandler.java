package io.gregor.broker.authz;

import io.gregor.wire.ApiRegistry;
import io.gregor.wire.KafkaRequest;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AccessControlEntryFilter;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.message.CreateAclsRequestData;
import org.apache.kafka.common.message.CreateAclsResponseData;
import org.apache.kafka.common.message.DeleteAclsRequestData;
import org.apache.kafka.common.message.DeleteAclsResponseData;
import org.apache.kafka.common.message.DescribeAclsRequestData;
import org.apache.kafka.common.message.DescribeAclsResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.ApiError;
import org.apache.kafka.common.requests.DeleteAclsResponse;
import org.apache.kafka.common.requests.DescribeAclsResponse;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.Resource;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourcePatternFilter;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.utils.internals.SecurityUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * CreateAcls, DescribeAcls and DeleteAcls, as the stock {@code kafka-acls} tool and Admin clients use them:
 * creating and deleting need ALTER on the cluster, describing needs DESCRIBE on it; without an authorizer
 * each is answered SECURITY_DISABLED, as Kafka answers.
 */
public final class AclsHandler {
    private static final Logger log = LoggerFactory.getLogger(AclsHandler.class);
    private static final String NO_AUTHORIZER = "No Authorizer is configured.";

    /** Null when no authorizer is configured. */
    private final AclAuthorizer authorizer;

    public AclsHandler(AclAuthorizer authorizer) {
        this.authorizer = authorizer;
    }

    public void register(ApiRegistry registry) {
        registry.register(ApiKeys.CREATE_ACLS, (short) 0, Short.MAX_VALUE, this::createAcls);
        registry.register(ApiKeys.DESCRIBE_ACLS, (short) 0, Short.MAX_VALUE, this::describeAcls);
        registry.register(ApiKeys.DELETE_ACLS, (short) 0, Short.MAX_VALUE, this::deleteAcls);
    }

    private CompletionStage<CreateAclsResponseData> createAcls(KafkaRequest request) {
        CreateAclsRequestData data = request.body();
        CreateAclsResponseData response = new CreateAclsResponseData();
        Errors refused = authorizer == null ? Errors.SECURITY_DISABLED
                : request.authorizeCluster(AclOperation.ALTER) ? Errors.NONE : Errors.CLUSTER_AUTHORIZATION_FAILED;
        List<AclBinding> valid = new ArrayList<>();
        List<CreateAclsResponseData.AclCreationResult> validResults = new ArrayList<>();
        for (CreateAclsRequestData.AclCreation creation : data.creations()) {
            CreateAclsResponseData.AclCreationResult result = new CreateAclsResponseData.AclCreationResult();
            response.results().add(result);
            if (refused != Errors.NONE) {
                result.setErrorCode(refused.code()).setErrorMessage(refused == Errors.SECURITY_DISABLED ? NO_AUTHORIZER : null);
                continue;
            }
            String invalid = invalidCreation(creation);
            if (invalid != null) {
                result.setErrorCode(Errors.INVALID_REQUEST.code()).setErrorMessage(invalid);
                continue;
            }
            valid.add(new AclBinding(new ResourcePattern(ResourceType.fromCode(creation.resourceType()),
                    creation.resourceName(), PatternType.fromCode(creation.resourcePatternType())),
                    new AccessControlEntry(SecurityUtils.parseKafkaPrincipal(creation.principal()).toString(),
                            creation.host(), AclOperation.fromCode(creation.operation()),
                            AclPermissionType.fromCode(creation.permissionType()))));
            validResults.add(result);
        }
        if (!valid.isEmpty()) {
            try {
                authorizer.create(valid);
                log.info("{} created ACLs {}", request.connection().principal(), valid);
            } catch (RuntimeException e) {
                log.warn("Cannot store ACLs {}: {}", valid, e.toString());
                validResults.forEach(r -> r.setErrorCode(Errors.UNKNOWN_SERVER_ERROR.code()).setErrorMessage(e.getMessage()));
            }
        }
        return CompletableFuture.completedFuture(response);
    }

    /** Kafka's checks of a new ACL; null when it is fine. */
    private static String invalidCreation(CreateAclsRequestData.AclCreation c) {
        ResourceType type = ResourceType.fromCode(c.resourceType());
        PatternType patternType = PatternType.fromCode(c.resourcePatternType());
        AclOperation operation = AclOperation.fromCode(c.operation());
        AclPermissionType permission = AclPermissionType.fromCode(c.permissionType());
        if (type == ResourceType.ANY || type == ResourceType.UNKNOWN) {
            return "Invalid resource type " + type;
        }
        if (patternType != PatternType.LITERAL && patternType != PatternType.PREFIXED) {
            return "Invalid pattern type " + patternType;
        }
        if (operation == AclOperation.ANY || operation == AclOperation.UNKNOWN) {
            return "Invalid operation " + operation;
        }
        if (permission != AclPermissionType.ALLOW && permission != AclPermissionType.DENY) {
            return "Invalid permission type " + permission;
        }
        if (c.resourceName() == null || c.resourceName().isEmpty()) {
            return "Invalid empty resource name";
        }
        if (type == ResourceType.CLUSTER && !Resource.CLUSTER_NAME.equals(c.resourceName())) {
            return "The only valid name for the CLUSTER resource is " + Resource.CLUSTER_NAME;
        }
        if (c.host() == null || c.host().isEmpty()) {
            return "Invalid empty host";
        }
        try {
            SecurityUtils.parseKafkaPrincipal(c.principal());
        } catch (RuntimeException e) {
            return "Invalid principal " + c.principal() + ": " + e.getMessage();
        }
        return null;
    }

    private CompletionStage<DescribeAclsResponseData> describeAcls(KafkaRequest request) {
        DescribeAclsRequestData data = request.body();
        DescribeAclsResponseData response = new DescribeAclsResponseData();
        if (authorizer == null) {
            return CompletableFuture.completedFuture(response.setErrorCode(Errors.SECURITY_DISABLED.code())
                    .setErrorMessage(NO_AUTHORIZER));
        }
        if (!request.authorizeCluster(AclOperation.DESCRIBE)) {
            return CompletableFuture.completedFuture(response.setErrorCode(Errors.CLUSTER_AUTHORIZATION_FAILED.code())
                    .setErrorMessage(Errors.CLUSTER_AUTHORIZATION_FAILED.message()));
        }
        AclBindingFilter filter = filter(data.resourceTypeFilter(), data.resourceNameFilter(), data.patternTypeFilter(),
                data.principalFilter(), data.hostFilter(), data.operation(), data.permissionType());
        return CompletableFuture.completedFuture(
                response.setResources(DescribeAclsResponse.aclsResources(authorizer.acls(filter))));
    }

    private CompletionStage<DeleteAclsResponseData> deleteAcls(KafkaRequest request) {
        DeleteAclsRequestData data = request.body();
        DeleteAclsResponseData response = new DeleteAclsResponseData();
        Errors refused = authorizer == null ? Errors.SECURITY_DISABLED
                : request.authorizeCluster(AclOperation.ALTER) ? Errors.NONE : Errors.CLUSTER_AUTHORIZATION_FAILED;
        if (refused != Errors.NONE) {
            for (int i = 0; i < data.filters().size(); i++) {
                response.filterResults().add(new DeleteAclsResponseData.DeleteAclsFilterResult()
                        .setErrorCode(refused.code()).setErrorMessage(refused == Errors.SECURITY_DISABLED ? NO_AUTHORIZER : null));
            }
            return CompletableFuture.completedFuture(response);
        }
        List<AclBindingFilter> filters = new ArrayList<>();
        for (DeleteAclsRequestData.DeleteAclsFilter f : data.filters()) {
            filters.add(filter(f.resourceTypeFilter(), f.resourceNameFilter(), f.patternTypeFilter(), f.principalFilter(),
                    f.hostFilter(), f.operation(), f.permissionType()));
        }
        try {
            List<List<AclBinding>> deleted = authorizer.delete(filters);
            for (List<AclBinding> matched : deleted) {
                DeleteAclsResponseData.DeleteAclsFilterResult result = new DeleteAclsResponseData.DeleteAclsFilterResult();
                for (AclBinding binding : matched) {
                    result.matchingAcls().add(DeleteAclsResponse.matchingAcl(binding, ApiError.NONE));
                }
                response.filterResults().add(result);
            }
            if (deleted.stream().anyMatch(l -> !l.isEmpty())) {
                log.info("{} deleted ACLs {}", request.connection().principal(), deleted);
            }
        } catch (RuntimeException e) {
            log.warn("Cannot delete ACLs: {}", e.toString());
            response.filterResults().clear();
            for (int i = 0; i < filters.size(); i++) {
                response.filterResults().add(new DeleteAclsResponseData.DeleteAclsFilterResult()
                        .setErrorCode(Errors.UNKNOWN_SERVER_ERROR.code()).setErrorMessage(e.getMessage()));
            }
        }
        return CompletableFuture.completedFuture(response);
    }

    private static AclBindingFilter filter(byte resourceType, String name, byte patternType, String principal,
                                           String host, byte operation, byte permission) {
        return new AclBindingFilter(
                new ResourcePatternFilter(ResourceType.fromCode(resourceType), name, PatternType.fromCode(patternType)),
                new AccessControlEntryFilter(principal, host, AclOperation.fromCode(operation),
                        AclPermissionType.fromCode(permission)));
    }
}
