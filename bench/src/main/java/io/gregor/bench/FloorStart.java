package io.gregor.bench;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Node;

import java.lang.management.ClassLoadingMXBean;
import java.lang.management.ManagementFactory;
import java.util.Collection;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The floor with a stock client, in a fresh JVM: {@link FloorServer} started, then a kafka-clients Admin
 * created and asked for the cluster's brokers (ApiVersions, then Metadata). Prints, as EmbeddedStartSubject
 * does, the time from the server's start call to its answer reaching the Admin, the process CPU and the classes
 * loaded meanwhile; the Admin's share (its creation to the answer) too. Usage: FloorStart [all-apis]
 */
public final class FloorStart {
    private FloorStart() {
    }

    public static void main(String[] args) throws Exception {
        boolean allApis = args.length > 0 && args[0].equals("all-apis");
        com.sun.management.OperatingSystemMXBean os =
                (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        ClassLoadingMXBean classLoading = ManagementFactory.getClassLoadingMXBean();
        long cpuBefore = os.getProcessCpuTime();
        long classesBefore = classLoading.getTotalLoadedClassCount();
        long called = System.nanoTime();
        try (FloorServer server = FloorServer.start(allApis)) {
            long serving = System.nanoTime();
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, server.bootstrapServers(),
                    AdminClientConfig.CLIENT_ID_CONFIG, "floor-admin"))) {
                Collection<Node> nodes = admin.describeCluster().nodes().get(60, TimeUnit.SECONDS);
                long answered = System.nanoTime();
                report("floor_admin_brokers", nodes.size());
                report("floor_server_started_ms", millis(serving - called));
                report("floor_admin_answer_ms", millis(answered - called));
                report("floor_admin_share_ms", millis(answered - serving));
                report("floor_admin_cpu_ms", millis(os.getProcessCpuTime() - cpuBefore));
                report("floor_admin_classes", classLoading.getTotalLoadedClassCount() - classesBefore);
            }
        }
        System.exit(0);
    }

    private static double millis(long nanos) {
        return nanos / 1e6;
    }

    private static void report(String name, double value) {
        System.out.println(String.format(Locale.ROOT, "result\t%s\t%.3f", name, value));
    }
}
