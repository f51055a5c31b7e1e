package io.gregor.testkit.junit;

import io.gregor.testkit.GregorCluster;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.platform.commons.support.AnnotationSupport;

import java.util.Optional;

/**
 * Behind {@link GregorTest}: the cluster lives in the store of the annotated class's context, so JUnit
 * closes it when that class is done, and classes running in parallel never share one.
 */
public final class GregorExtension implements BeforeAllCallback, ParameterResolver {
    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(GregorExtension.class);
    private static final String CLUSTER = "cluster";

    @Override
    public void beforeAll(ExtensionContext context) {
        cluster(context);
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == GregorCluster.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        try {
            return cluster(context);
        } catch (RuntimeException e) {
            throw new ParameterResolutionException("Cannot start the Gregor cluster: " + e.getMessage(), e);
        }
    }

    /** The cluster of the nearest enclosing context whose class carries {@link GregorTest}, started on first use. */
    private static GregorCluster cluster(ExtensionContext context) {
        ExtensionContext owner = context;
        Optional<GregorTest> annotation = Optional.empty();
        while (owner != null) {
            if (owner.getElement().orElse(null) instanceof Class<?> type) {
                annotation = AnnotationSupport.findAnnotation(type, GregorTest.class);
                if (annotation.isPresent()) {
                    break;
                }
            }
            owner = owner.getParent().orElse(null);
        }
        if (owner == null) {
            throw new ExtensionConfigurationException("GregorExtension needs @GregorTest on the test class");
        }
        GregorTest settings = annotation.get();
        return owner.getStore(NAMESPACE).getOrComputeIfAbsent(CLUSTER, key -> new ClusterResource(start(settings)),
                ClusterResource.class).cluster;
    }

    private static GregorCluster start(GregorTest settings) {
        GregorCluster.Builder builder = GregorCluster.builder().brokers(settings.brokers());
        for (String property : settings.properties()) {
            int eq = property.indexOf('=');
            if (eq <= 0) {
                throw new ExtensionConfigurationException("@GregorTest properties are key=value; got '" + property + "'");
            }
            builder.brokerProperty(property.substring(0, eq).trim(), property.substring(eq + 1).trim());
        }
        return builder.start();
    }

    /**
     * Closed by JUnit with the class's context: through AutoCloseable on JUnit 5.13 and later, through
     * CloseableResource on earlier 5.x versions (closing twice is harmless).
     */
    @SuppressWarnings("deprecation")
    private static final class ClusterResource implements ExtensionContext.Store.CloseableResource, AutoCloseable {
        private final GregorCluster cluster;

        ClusterResource(GregorCluster cluster) {
            this.cluster = cluster;
        }

        @Override
        public void close() {
            cluster.close();
        }
    }
}
