package dev.gatehouse.gateway.backend.local;

import dev.gatehouse.gateway.api.openai.TestServer;
import dev.gatehouse.gateway.config.GatehouseConfig;
import dev.gatehouse.serving.engine.DeviceChoice;
import dev.gatehouse.serving.engine.EngineConfig;
import dev.gatehouse.serving.engine.RequestHandle;
import dev.gatehouse.serving.sample.SamplingParams;
import dev.gatehouse.serving.testing.BertTestFolder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Ollama's keep-alive: a chat model idle for its time is unloaded, stays listed, and its next request loads it again. */
class IdleUnloadTest {
    private static final Duration IDLE = Duration.ofMillis(400);

    @TempDir
    Path tmp;
    TestServer server;

    @AfterEach
    void tearDown() {
        server.close();
    }

    private void startWithIdleUnload(Duration reloadWait) throws Exception {
        startWithIdleUnload(TestServer.start(tmp), reloadWait);
    }

    private void startWithIdleUnload(TestServer started, Duration reloadWait) {
        server = started;
        server.models().unloadWhenIdle(new LocalModels.IdleUnload(LocalStore.of(server.store(), DeviceChoice.CPU,
                EngineConfig.defaults()), name -> IDLE, reloadWait, server.registry()), Duration.ofMillis(50));
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "timed out waiting until " + what);
            Thread.sleep(20);
        }
    }

    private HttpResponse<String> chat() throws Exception {
        return chat(TestServer.MODEL);
    }

    private HttpResponse<String> chat(String model) throws Exception {
        return server.post("/v1/chat/completions", "{\"model\":\"" + model
                + "\",\"max_tokens\":3,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
    }

    @Test
    void anIdleModelIsUnloadedStaysListedAndItsNextRequestLoadsItAgain() throws Exception {
        startWithIdleUnload(Duration.ofSeconds(60));

        await(() -> server.models().get(TestServer.MODEL).isEmpty(), "the idle model is unloaded");
        // the name is unlisted first, then the engine stops and its meters go
        await(() -> server.registry().getMeters().stream().noneMatch(m -> TestServer.MODEL.equals(m.getId().getTag("model"))
                && m.getId().getName().startsWith("gatehouse.engine.")), "its engine's meters (and memory) are gone");
        assertTrue(server.get("/v1/models").body().contains("\"id\":\"" + TestServer.MODEL + "\""));
        assertEquals(200, server.get("/v1/models/" + TestServer.MODEL).statusCode());

        HttpResponse<String> answer = chat();

        assertEquals(200, answer.statusCode(), answer.body());
        assertTrue(answer.body().contains("\"finish_reason\""), answer.body());
        assertTrue(server.models().get(TestServer.MODEL).isPresent(), "loaded again");
    }

    @Test
    void aRequestThatOutwaitsTheReloadBoundIsToldToRetry() throws Exception {
        startWithIdleUnload(Duration.ZERO);
        await(() -> server.models().get(TestServer.MODEL).isEmpty(), "the idle model is unloaded");

        HttpResponse<String> answer = chat();

        assertEquals(503, answer.statusCode(), answer.body());
        assertTrue(answer.body().contains("model_loading"), answer.body());
        assertTrue(answer.headers().firstValue("Retry-After").isPresent());
        await(() -> server.models().get(TestServer.MODEL).isPresent(), "the reload it started finishes");
    }

    @Test
    void aModelIsNotUnloadedUnderARunningRequest() throws Exception {
        startWithIdleUnload(Duration.ofSeconds(60));
        server.models().wake(TestServer.MODEL);
        // never read: the sequence pauses once its unread events fill up, and keeps running far past the keep-alive
        RequestHandle running = server.engine().submit(new int[] {1, 2, 3},
                SamplingParams.greedy().withMaxTokens(900).withIgnoreEos(true));

        Thread.sleep(IDLE.toMillis() * 4);
        assertTrue(server.models().get(TestServer.MODEL).isPresent(), "unloaded under a running request");

        running.cancel();
        await(() -> server.models().get(TestServer.MODEL).isEmpty(), "unloaded once the request is gone");
    }

    @Test
    void aModelReachedOnlyThroughARouteIsLoadedAgainByTheRoutesNextRequest() throws Exception {
        startWithIdleUnload(TestServer.start(tmp, GatehouseConfig.parse(
                "models: [{name: assistant, targets: [{local: " + TestServer.MODEL + "}]}]", Map.of())),
                Duration.ofSeconds(60));
        await(() -> server.models().get(TestServer.MODEL).isEmpty(), "the idle model is unloaded");

        HttpResponse<String> answer = chat("assistant");

        assertEquals(200, answer.statusCode(), answer.body());
        assertTrue(server.models().get(TestServer.MODEL).isPresent(), "loaded again");
    }

    @Test
    void anIdleEmbeddingModelIsUnloadedAndItsNextRequestLoadsItAgain() throws Exception {
        new BertTestFolder().write(Files.createDirectories(tmp.resolve("model-store").resolve("mini-bert")));
        startWithIdleUnload(Duration.ofSeconds(60));
        await(() -> server.models().embeddings("mini-bert").isEmpty(), "the idle embedding model is unloaded");
        assertTrue(server.get("/v1/models").body().contains("\"id\":\"mini-bert\""), "still listed");

        HttpResponse<String> answer = server.post("/v1/embeddings", "{\"model\":\"mini-bert\",\"input\":\"hello\"}");

        assertEquals(200, answer.statusCode(), answer.body());
        assertTrue(answer.body().contains("\"embedding\""), answer.body());
    }
}
