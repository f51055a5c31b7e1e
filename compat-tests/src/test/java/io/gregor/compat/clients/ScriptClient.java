package io.gregor.compat.clients;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A scenario script of a non-Java client family (under src/test/python or src/test/js). Each run gets
 * the bootstrap address, a scenario name and a topic prefix; it prints "PASS scenario: ..." on success.
 */
record ScriptClient(String interpreter, Path script) {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    static ScriptClient of(String interpreter, String scriptUnderSrcTest) {
        Path moduleDir = Path.of(System.getProperty("basedir", "."));
        Path script = moduleDir.resolve("src/test").resolve(scriptUnderSrcTest);
        assertThat(Files.isExecutable(Path.of(interpreter))).as(interpreter + " is required: run .ci/install-clients").isTrue();
        assertThat(script).isRegularFile();
        return new ScriptClient(interpreter, script);
    }

    /** Runs one scenario and asserts that it passed; returns its output for further checks. */
    ClientProcess.Result pass(String bootstrap, String scenario, String topicPrefix) {
        return pass(bootstrap, scenario, topicPrefix, Map.of());
    }

    /** As {@link #pass(String, String, String)}, with more environment variables for the script. */
    ClientProcess.Result pass(String bootstrap, String scenario, String topicPrefix, Map<String, String> env) {
        // The Python scripts import a sibling module: no __pycache__ in the source tree.
        Map<String, String> environment = new java.util.HashMap<>(env);
        environment.put("PYTHONDONTWRITEBYTECODE", "1");
        ClientProcess.Result result = ClientProcess.run(
                List.of(interpreter, script.toString(), bootstrap, scenario, topicPrefix), null, TIMEOUT, environment);
        assertThat(result.exitCode()).as(result.describe()).isZero();
        assertThat(result.stdout()).as(result.describe()).contains("PASS " + scenario);
        System.out.println(script.getFileName() + " " + result.stdout().strip());
        return result;
    }
}
