package dev.gatehouse.gateway.cli;

import dev.gatehouse.gateway.Main;
import dev.gatehouse.gateway.hub.FakeHub;
import dev.gatehouse.serving.testing.TestModelFolder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * {@code gatehouse serve ORG/NAME} as a user runs it, in its own JVM against a Hub on loopback: the model is
 * pulled, then answers under its Hub id and its store name; {@code --no-pull} and a missing token refuse.
 */
class ServePullTest {
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final Pattern LISTENING = Pattern.compile("listening on http://127\\.0\\.0\\.1:(\\d+)");

    @TempDir
    Path tmp;
    Path store;
    FakeHub hub;
    Process process;

    @BeforeEach
    void setUp() throws IOException {
        store = tmp.resolve("model-store");
        Path llama = TestModelFolder.llama().write(Files.createDirectories(tmp.resolve("llama")));
        hub = new FakeHub().add("org/llama", llama, "1111111111111111111111111111111111111111", "hf_token_ok");
    }

    @AfterEach
    void tearDown() throws InterruptedException {
        if (process != null) {
            process.destroy();
            process.waitFor(30, TimeUnit.SECONDS);
        }
        hub.close();
    }

    private Process start(String token, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), Main.class.getName(), "serve", "--port", "0",
                "--no-default-embedding-model", "--model-store", store.toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(tmp.resolve("out.txt").toFile())
                .redirectError(tmp.resolve("err.txt").toFile());
        pb.environment().put("HF_ENDPOINT", hub.url());
        pb.environment().remove("HF_TOKEN");
        pb.environment().remove("GATEHOUSE_MASTER_KEY");
        if (token != null) {
            pb.environment().put("HF_TOKEN", token);
        }
        process = pb.start();
        return process;
    }

    private String err() throws IOException {
        return Files.readString(tmp.resolve("err.txt"), StandardCharsets.UTF_8);
    }

    /** Waits for the server's line that says it is serving; returns its port. */
    private int awaitServing() throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (System.nanoTime() < deadline) {
            String err = err();
            Matcher m = LISTENING.matcher(err);
            if (m.find() && err.contains("INFO") && err.contains(": serving ")) {
                return Integer.parseInt(m.group(1));
            }
            assertTrue(process.isAlive(), "serve stopped: " + err);
            Thread.sleep(100);
        }
        fail("serve did not start: " + err());
        return -1;
    }

    private static HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void aHubIdIsPulledThenServedUnderItAndUnderItsStoreName() throws Exception {
        start("hf_token_ok", "org/llama");
        int port = awaitServing();

        assertTrue(Files.isRegularFile(store.resolve("org--llama/gatehouse-manifest.json")));
        assertTrue(Files.readString(tmp.resolve("out.txt")).contains("pulling org/llama at main"));
        String models = send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/models"))).body();
        assertTrue(models.contains("\"id\":\"org/llama\""), models);
        assertTrue(models.contains("\"id\":\"org--llama\""), models);
        for (String model : List.of("org/llama", "org--llama")) {
            HttpResponse<String> chat = send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/chat/completions"))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"" + model
                            + "\",\"max_tokens\":2,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")));
            assertEquals(200, chat.statusCode(), chat.body());
            assertTrue(chat.body().contains("\"finish_reason\""), chat.body());
        }
    }

    @Test
    void aModelAlreadyInTheStoreIsServedWithoutTheHub() throws Exception {
        TestModelFolder.llama().write(Files.createDirectories(store.resolve("org--llama")));
        hub.close(); // nothing may be fetched
        start(null, "--model", "org/llama", "--no-pull");
        int port = awaitServing();

        String models = send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/models"))).body();
        assertTrue(models.contains("\"id\":\"org/llama\""), models);
    }

    @Test
    void noPullRefusesAModelThatIsNotInTheStore() throws Exception {
        assertTrue(start("hf_token_ok", "org/llama", "--no-pull").waitFor(120, TimeUnit.SECONDS));

        assertEquals(1, process.exitValue());
        assertTrue(err().contains("error: org/llama is not in the model store ") && err().contains("--no-pull"), err());
        assertFalse(Files.exists(store.resolve("org--llama")));
    }

    @Test
    void aGatedModelWithoutTheTokenStopsWithTheLicenceAdvice() throws Exception {
        assertTrue(start(null, "org/llama").waitFor(120, TimeUnit.SECONDS));

        assertEquals(1, process.exitValue());
        assertTrue(err().contains("error: org/llama is gated or private (HTTP 401): accept the licence at "
                + hub.url() + "/org/llama and set HF_TOKEN"), err());
        assertFalse(Files.exists(store.resolve("org--llama")));
    }

    @Test
    void withNoModelAnywhereItSaysInOneLineHowToGetOne() throws Exception {
        start(null);
        awaitServing();

        assertTrue(err().contains("no models in the model store: serve one from the Hugging Face Hub with "
                + "`scripts/gatehouse serve HuggingFaceTB/SmolLM2-135M-Instruct`"), err());
    }
}
