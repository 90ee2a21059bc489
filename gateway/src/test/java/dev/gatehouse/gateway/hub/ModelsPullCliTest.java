package dev.gatehouse.gateway.hub;

import dev.gatehouse.gateway.Main;
import dev.gatehouse.serving.testing.TestModelFolder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code gatehouse models pull} as a user runs it: a separate JVM whose environment carries HF_ENDPOINT and
 * HF_TOKEN, output piped (so plain log lines, no progress bar), exit status and messages checked.
 */
class ModelsPullCliTest {
    @TempDir
    Path tmp;
    Path store;
    FakeHub hub;

    record Result(int exit, String out, String err) {}

    @BeforeEach
    void setUp() throws IOException {
        store = tmp.resolve("model-store");
        Path llama = TestModelFolder.llama().write(Files.createDirectories(tmp.resolve("llama")));
        Path t5 = TestModelFolder.gpt2().write(Files.createDirectories(tmp.resolve("t5")));
        Files.writeString(t5.resolve("config.json"), Files.readString(t5.resolve("config.json"))
                .replace("GPT2LMHeadModel", "T5ForConditionalGeneration"));
        hub = new FakeHub()
                .add("org/llama", llama, "1111111111111111111111111111111111111111", "hf_token_ok")
                .add("org/t5", t5, "2222222222222222222222222222222222222222", null);
    }

    @AfterEach
    void tearDown() {
        hub.close();
    }

    Result gatehouse(String token, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(tmp.resolve("out.txt").toFile())
                .redirectError(tmp.resolve("err.txt").toFile());
        pb.environment().put("HF_ENDPOINT", hub.url());
        pb.environment().remove("HF_TOKEN");
        if (token != null) {
            pb.environment().put("HF_TOKEN", token);
        }
        Process p = pb.start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "gatehouse did not finish");
        return new Result(p.exitValue(), Files.readString(tmp.resolve("out.txt"), StandardCharsets.UTF_8),
                Files.readString(tmp.resolve("err.txt"), StandardCharsets.UTF_8));
    }

    @Test
    void pullsAGatedModelWithHfTokenFromTheEnvironmentAndLogsPlainLines() throws Exception {
        Result r = gatehouse("hf_token_ok", "models", "pull", "org/llama", "--model-store", store.toString());

        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("pulling org/llama at main (111111111111) into "), r.out());
        assertTrue(r.out().contains("downloaded model.safetensors ("), r.out());
        assertFalse(r.out().contains("\r") || r.out().contains("ETA"), "no progress bar when piped: " + r.out());
        assertTrue(Files.isRegularFile(store.resolve("org--llama/gatehouse-manifest.json")));
        assertFalse(r.err().contains("warning"), r.err());
    }

    @Test
    void withoutTheTokenItExitsOneWithTheLicenceAdvice() throws Exception {
        Result r = gatehouse(null, "models", "pull", "org/llama", "--model-store", store.toString());

        assertEquals(1, r.exit());
        assertTrue(r.err().contains("error: org/llama is gated or private (HTTP 401): accept the licence at "
                + hub.url() + "/org/llama and set HF_TOKEN"), r.err());
        assertFalse(Files.exists(store.resolve("org--llama")));
    }

    @Test
    void anUnservableModelIsKeptWithAWarning() throws Exception {
        Result r = gatehouse(null, "models", "pull", "org/t5", "--name", "t5", "--model-store", store.toString());

        assertEquals(0, r.exit(), r.err());
        assertTrue(Files.isRegularFile(store.resolve("t5/model.safetensors")));
        assertTrue(r.err().contains("warning: Gatehouse cannot serve t5 (architecture T5ForConditionalGeneration)"), r.err());
    }

    @Test
    void theProgressBarOnATerminalShowsBytesSpeedAndEta() {
        StringWriter w = new StringWriter();
        Progress p = new Progress(new PrintWriter(w, true), true);
        p.start(2, 4 << 20, 0);
        p.advance(1 << 20);
        p.fileDone(new HubFile("model.safetensors", 1 << 20, "ab"), false);
        p.finish();

        assertTrue(w.toString().contains("\r"), w.toString());
        assertTrue(w.toString().contains("1.0 MiB / 4.0 MiB"), w.toString());
        assertTrue(w.toString().contains("/s  ETA "), w.toString());
    }
}
