package io.gregor.compat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Command lines for child JVMs, by default with exactly the test JVM's classpath (broker, kafka-clients, kafka-tools). */
final class JavaProcesses {
    private JavaProcesses() {
    }

    static List<String> command(String mainClass, List<String> jvmArgs, List<String> args) {
        return command(System.getProperty("java.class.path"), mainClass, jvmArgs, args);
    }

    static List<String> command(String classpath, String mainClass, List<String> jvmArgs, List<String> args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        // Children share 2 cores with the test JVM; small heaps and no JIT tiers keep startup cheap.
        cmd.add("-Xmx256m");
        cmd.add("-XX:TieredStopAtLevel=1");
        cmd.add("-XX:+UseSerialGC");
        cmd.addAll(jvmArgs);
        cmd.add("-cp");
        cmd.add(classpath);
        cmd.add(mainClass);
        cmd.addAll(args);
        return cmd;
    }
}
