package io.gregor.broker.intercept;

import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.protocol.Message;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Comparator;
import java.util.Optional;
import java.util.function.Function;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Short text of a protocol message for the trace: its key fields (topics, partitions, offsets, group,
 * member, error codes), found in kafka-clients' generated classes by their accessor names, so every API
 * is covered without a summary per API. Used only while the trace is on.
 */
final class MessageSummary {
    private static final int MAX_CHARS = 1_000;
    private static final Pattern KEY_FIELD = Pattern.compile(
            "(?i).*(topic|name|partition|index|offset|group|member|transactionalid|producerid|producerepoch|acks"
                    + "|key|timestamp|generation|leaderepoch|highwatermark|coordinator|nodeid|host|port|session).*");
    private static final Set<String> NOT_FIELDS = Set.of("apiKey", "lowestSupportedVersion", "highestSupportedVersion",
            "unknownTaggedFields", "duplicate", "hashCode", "toString", "next", "prev", "getClass", "size");
    private static final Set<String> IDENTITY = Set.of("name", "topic", "topicId", "groupId", "memberId",
            "partition", "partitionIndex", "index", "key");
    /** Per generated class, derived from the class alone: the same for every broker in the JVM. */
    private static final ClassValue<List<Method>> ACCESSORS = new ClassValue<>() {
        @Override
        protected List<Method> computeValue(Class<?> type) {
            List<Method> out = new ArrayList<>();
            for (Method m : type.getDeclaredMethods()) {
                if (Modifier.isPublic(m.getModifiers()) && !Modifier.isStatic(m.getModifiers())
                        && m.getParameterCount() == 0 && !m.isBridge() && !NOT_FIELDS.contains(m.getName())
                        && m.getReturnType() != void.class) {
                    out.add(m);
                }
            }
            // identity first, then other values, the error, and nested entries last: reads as "t-0 offset=5 error=X"
            out.sort(Comparator.comparingInt(MessageSummary::rank).thenComparing(Method::getName));
            return List.copyOf(out);
        }
    };

    private MessageSummary() {
    }

    /** @param topicNames names of topic ids, for versions that carry ids instead of names */
    static String of(Message message, Function<Uuid, Optional<String>> topicNames) {
        StringBuilder sb = new StringBuilder();
        append(sb, message, topicNames);
        if (sb.isEmpty()) {
            return "-"; // no key fields (ApiVersions, DescribeCluster)
        }
        return sb.length() > MAX_CHARS ? sb.substring(0, MAX_CHARS) + "..." : sb.toString();
    }

    /** Every error code in the message other than 0, in any entry. */
    static void collectErrors(Message message, Set<Short> into) {
        for (Method m : accessors(message.getClass())) {
            Object v = get(m, message);
            if (v instanceof Short code && m.getName().equals("errorCode") && code != 0) {
                into.add(code);
            } else if (v instanceof Message child) {
                collectErrors(child, into);
            } else if (v instanceof Collection<?> list) {
                for (Object o : list) {
                    if (o instanceof Message child) {
                        collectErrors(child, into);
                    }
                }
            }
        }
    }

    private static void append(StringBuilder sb, Message message, Function<Uuid, Optional<String>> topicNames) {
        int start = sb.length();
        for (Method m : accessors(message.getClass())) {
            if (sb.length() > MAX_CHARS) {
                return;
            }
            String name = m.getName();
            Object v = get(m, message);
            if (v == null) {
                continue;
            }
            int mark = sb.length();
            if (sb.length() > start) {
                sb.append(' ');
            }
            if (name.equals("errorCode") && v instanceof Short code) {
                if (code == 0) {
                    sb.setLength(mark);
                    continue;
                }
                sb.append("error=").append(Errors.forCode(code).name());
            } else if (v instanceof Message child) {
                sb.append(name).append("={");
                int inner = sb.length();
                append(sb, child, topicNames);
                if (sb.length() == inner) {
                    sb.setLength(mark);
                    continue;
                }
                sb.append('}');
            } else if (v instanceof Collection<?> list) {
                if (list.isEmpty() || !(list.iterator().next() instanceof Message) && !KEY_FIELD.matcher(name).matches()) {
                    sb.setLength(mark);
                    continue;
                }
                sb.append(name).append("=[");
                int open = sb.length();
                for (Object o : list) {
                    int before = sb.length();
                    if (before > open) {
                        sb.append(", ");
                    }
                    int entry = sb.length();
                    if (o instanceof Message child) {
                        append(sb, child, topicNames);
                    } else {
                        sb.append(o);
                    }
                    if (sb.length() == entry) {
                        sb.setLength(before); // an entry without key fields (ApiVersions' list)
                    }
                    if (sb.length() > MAX_CHARS) {
                        return;
                    }
                }
                if (sb.length() == open) {
                    sb.setLength(mark);
                    continue;
                }
                sb.append(']');
            } else if (v instanceof String str && str.isEmpty() || Uuid.ZERO_UUID.equals(v)) {
                sb.setLength(mark); // a name left empty where the version carries the topic id, or the reverse
            } else if (v instanceof Uuid id && name.equals("topicId")) {
                Optional<String> topic = topicNames.apply(id);
                sb.append(topic.isPresent() ? "topic=" + topic.get() : "topicId=" + id);
            } else if (KEY_FIELD.matcher(name).matches() && isScalar(v)) {
                sb.append(name).append('=').append(v);
            } else {
                sb.setLength(mark);
            }
        }
    }

    private static boolean isScalar(Object v) {
        return v instanceof Number || v instanceof String || v instanceof Boolean || v instanceof Uuid;
    }

    private static Object get(Method m, Message message) {
        try {
            return m.invoke(message);
        } catch (ReflectiveOperationException e) {
            return null;
        }
    }

    private static List<Method> accessors(Class<?> type) {
        return ACCESSORS.get(type);
    }

    private static int rank(Method m) {
        if (IDENTITY.contains(m.getName())) {
            return 0;
        }
        if (m.getName().equals("errorCode")) {
            return 2;
        }
        return Collection.class.isAssignableFrom(m.getReturnType()) || Message.class.isAssignableFrom(m.getReturnType()) ? 3 : 1;
    }
}
