package dev.gatehouse.gateway.route;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.openai.client.OpenAIClient;
import com.openai.core.http.HttpResponseFor;
import com.openai.core.http.StreamResponse;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import dev.gatehouse.gateway.backend.local.LocalModels;
import dev.gatehouse.gateway.backend.local.LocalStore;
import dev.gatehouse.gateway.backend.openai.MockOpenAi;
import dev.gatehouse.gateway.config.GatehouseConfig;
import dev.gatehouse.gateway.server.GatewayServer;
import dev.gatehouse.serving.engine.Capacity;
import dev.gatehouse.serving.engine.DeviceChoice;
import dev.gatehouse.serving.engine.Engine;
import dev.gatehouse.serving.engine.EngineConfig;
import dev.gatehouse.serving.testing.TestModelFolder;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Spill from a busy local engine to the cloud, driven only by concurrent OpenAI SDK clients: a tiny
 * random model with two slots and two waiting places in front of a mock OpenAI. Local answers that
 * hold their slot are long generations (greedy decoding of this model never meets its end token)
 * whose streams the test leaves unread and closes when it is done with them, which cancels them;
 * so nothing depends on how fast the machine generates.
 */
class SpillTest {
    private static final String LOCAL = "tiny-llama";
    private static final String LOCAL_BACKEND = "local:" + LOCAL;
    private static final String CLOUD_BACKEND = "openai:gpt-4o-mini";
    private static final int MAX_RUNNING = 2;
    private static final int MAX_WAITING = 2;
    private static final long MAX_QUEUE_WAIT_MILLIS = 200;
    /** Tokens a slot-holding request asks for: minutes of generation on any machine, cancelled long before. */
    private static final int LONG = 8_000;
    private static final int CLIENTS = 8;

    @TempDir
    static Path dir;
    static MockOpenAi cloud;
    static LocalModels models;
    static Engine engine;
    static GatewayServer server;
    static OpenAIClient client;
    static ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor();

    @BeforeAll
    static void start() throws Exception {
        cloud = new MockOpenAi();
        Path store = dir.resolve("model-store");
        TestModelFolder.llama().maxPositions(LONG + 100).write(store.resolve(LOCAL));
        PrometheusMeterRegistry registry = GatewayServer.newRegistry();
        models = new LocalModels();
        models.load(LocalStore.of(store, DeviceChoice.CPU, EngineConfig.defaults().withMaxRunning(MAX_RUNNING)
                .withMaxWaiting(MAX_WAITING)), LOCAL, registry);
        engine = models.get(LOCAL).orElseThrow().engine();
        GatehouseConfig config = GatehouseConfig.parse("""
                providers:
                  openai: {type: openai, base-url: %s, api-key: ${OPENAI_API_KEY}}
                models:
                  - name: spill-when-full           # waits of any length are fine: spills only when the queue refuses
                    targets: [{local: tiny-llama}, {provider: openai, model: gpt-4o-mini}]
                    spill: {max-queue-wait-ms: 86400000} # a day: a loaded machine's 8000-token holders estimate minutes
                  - name: spill-when-slow
                    targets: [{local: tiny-llama}, {provider: openai, model: gpt-4o-mini}]
                    spill: {max-queue-wait-ms: %d}
                """.formatted(cloud.baseUrl(), MAX_QUEUE_WAIT_MILLIS), Map.of("OPENAI_API_KEY", MockOpenAi.KEY));
        server = RouteTestGateway.start(models, Router.of(config, models, registry), registry);
        client = RouteTestGateway.sdk(server);
    }

    @AfterAll
    static void stop() {
        clients.shutdownNow();
        RouteTestGateway.stop(client, server);
        models.close();
        cloud.close();
    }

    @BeforeEach
    void idle() throws InterruptedException {
        assertEquals(LOCAL_BACKEND, answer("spill-when-full").backend(), "an idle engine answers");
        awaitEngine(c -> c.running() == 0 && c.waiting() == 0, "idle"); // it frees the slot a step after the answer
    }

    /** Who answered one request, why others were passed over, and its stream while it is left open. */
    record Answer(String backend, String fallbacks, HttpResponseFor<StreamResponse<ChatCompletionChunk>> open) {
        void close() {
            if (open != null && leftOpen.remove(this)) {
                open.close(); // the gateway sees the client go and cancels the generation
            }
        }
    }

    /** Local answers not closed yet: a test that fails half-way must not leave the engine busy for the next. */
    static final Queue<Answer> leftOpen = new ConcurrentLinkedQueue<>();

    @AfterEach
    void closeWhatIsLeftOpen() throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        for (Capacity c = engine.capacity(); c.running() > 0 || c.waiting() > 0; c = engine.capacity()) { // queued ones open as slots free
            leftOpen.forEach(Answer::close);
            if (System.nanoTime() > deadline) {
                throw new AssertionError("engine still busy: " + c);
            }
            Thread.sleep(10);
        }
    }

    @Test
    void whenTheQueueIsFullTheOverflowGoesToTheCloudAndTrafficReturnsOnceItDrains() throws Exception {
        List<Answer> held = all(fire(MAX_RUNNING, () -> longRequest("spill-when-full")));
        assertEquals(Set.of(LOCAL_BACKEND), backends(held), "free slots: local");

        List<Future<Answer>> wave = fire(CLIENTS, () -> longRequest("spill-when-full"));
        // the first two of the wave queue up behind the holders (no slot frees while they hold), the rest spill
        awaitEngine(c -> c.waiting() == MAX_WAITING && done(wave) == CLIENTS - MAX_WAITING, "queue full, overflow answered");
        assertEquals(MAX_RUNNING, engine.capacity().running(), "the holders were still generating during the wave");
        List<Answer> spilled = answered(wave);
        assertEquals(Set.of(CLOUD_BACKEND), backends(spilled), "the overflow, answered by the cloud");
        for (Answer a : spilled) { // the queue looked full, or was full by the time the request reached it
            assertTrue(Set.of(LOCAL_BACKEND + " (queue full)", LOCAL_BACKEND + " (503)").contains(a.fallbacks()), a.fallbacks());
        }
        Answer whileFull = answer("spill-when-full");
        assertEquals(CLOUD_BACKEND, whileFull.backend());
        assertEquals(LOCAL_BACKEND + " (queue full)", whileFull.fallbacks());

        held.forEach(Answer::close); // the holders go; the two queued get their slots and answer locally
        List<Answer> all = all(wave);
        all.forEach(Answer::close);
        assertEquals(Set.of(LOCAL_BACKEND, CLOUD_BACKEND), backends(all), "some answered locally, the overflow by the cloud");
        assertEquals(MAX_WAITING, all.stream().filter(a -> a.backend().equals(LOCAL_BACKEND)).count());

        awaitEngine(c -> c.running() == 0 && c.waiting() == 0, "drained");
        assertEquals(LOCAL_BACKEND, answer("spill-when-full").backend(), "traffic returns to local once the queue drains");
        assertTrue(metrics().contains("gatehouse_route_fallbacks_total{backend=\"local:tiny-llama\",reason=\"queue_full\"}"));
    }

    @Test
    void whenTheEstimatedWaitIsTooLongTheOverflowGoesToTheCloudThoughTheQueueHasRoom() throws Exception {
        List<Future<Answer>> holders = fire(MAX_RUNNING, () -> longRequest("spill-when-slow"));
        List<Answer> held = all(holders);
        assertEquals(Set.of(LOCAL_BACKEND), backends(held), "free slots: local");
        // both slots busy with thousands of tokens to go: a new request would wait far longer than 200 ms
        awaitEngine(c -> c.running() == MAX_RUNNING && c.estimatedWaitMillis() > MAX_QUEUE_WAIT_MILLIS, "a long estimated wait");
        assertFalse(engine.capacity().queueFull(), "the queue would still take requests");

        List<Answer> wave = all(fire(CLIENTS, () -> answer("spill-when-slow")));
        Capacity during = engine.capacity();
        held.forEach(Answer::close);

        assertEquals(MAX_RUNNING, during.running(), "the holders were still generating during the wave");
        assertEquals(0, during.waiting(), "nobody was queued behind them");
        assertEquals(Set.of(CLOUD_BACKEND), backends(wave));
        for (Answer a : wave) {
            assertTrue(a.fallbacks().matches("local:tiny-llama \\(wait \\d+ ms > 200 ms\\)"), a.fallbacks());
        }

        awaitEngine(c -> c.running() == 0 && c.waiting() == 0, "drained");
        assertEquals(LOCAL_BACKEND, answer("spill-when-slow").backend(), "traffic returns to local once the wait is short");
        String metrics = metrics();
        assertTrue(metrics.contains("gatehouse_route_fallbacks_total{backend=\"local:tiny-llama\",reason=\"queue_wait\"}"), metrics);
        assertTrue(metrics.contains("gatehouse_route_spills_total{backend=\"local:tiny-llama\"}"), metrics);
    }

    /**
     * A streamed request for many tokens; a local answer is left open and unread, so it keeps its
     * slot until {@link Answer#close}; a cloud answer is read to its end.
     */
    private static Answer longRequest(String model) {
        HttpResponseFor<StreamResponse<ChatCompletionChunk>> response = client.chat().completions().withRawResponse()
                .createStreaming(ChatCompletionCreateParams.builder().model(model).addUserMessage("Keep talking.")
                        .maxCompletionTokens(LONG).temperature(0).build());
        String backend = header(response, "x-gatehouse-backend");
        String fallbacks = header(response, "x-gatehouse-fallbacks");
        if (backend.equals(LOCAL_BACKEND)) {
            Answer held = new Answer(backend, fallbacks, response);
            leftOpen.add(held);
            return held;
        }
        try (response; StreamResponse<ChatCompletionChunk> chunks = response.parse()) {
            assertEquals(MockOpenAi.REPLY, chunks.stream().flatMap(c -> c.choices().stream())
                    .map(c -> c.delta().content().orElse("")).collect(Collectors.joining()));
        }
        return new Answer(backend, fallbacks, null);
    }

    /** A short whole answer. */
    private static Answer answer(String model) {
        try (HttpResponseFor<ChatCompletion> response = client.chat().completions().withRawResponse()
                .create(ChatCompletionCreateParams.builder().model(model).addUserMessage("Hi.").maxCompletionTokens(3).build())) {
            assertFalse(response.parse().choices().isEmpty());
            return new Answer(header(response, "x-gatehouse-backend"), header(response, "x-gatehouse-fallbacks"), null);
        }
    }

    /** {@code n} clients sending at once. */
    private static List<Future<Answer>> fire(int n, java.util.concurrent.Callable<Answer> request) {
        CountDownLatch go = new CountDownLatch(1);
        List<Future<Answer>> futures = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            futures.add(clients.submit(() -> {
                go.await();
                return request.call();
            }));
        }
        go.countDown();
        return futures;
    }

    private static Set<String> backends(List<Answer> answers) {
        return answers.stream().map(Answer::backend).collect(Collectors.toSet());
    }

    private static int done(List<Future<Answer>> futures) {
        return (int) futures.stream().filter(Future::isDone).count();
    }

    /** The answers in so far. */
    private static List<Answer> answered(List<Future<Answer>> futures) throws Exception {
        List<Answer> answers = new ArrayList<>();
        for (Future<Answer> f : futures) {
            if (f.isDone()) {
                answers.add(f.get());
            }
        }
        return answers;
    }

    private static List<Answer> all(List<Future<Answer>> futures) throws Exception {
        List<Answer> answers = new ArrayList<>();
        for (Future<Answer> f : futures) {
            answers.add(f.get(60, java.util.concurrent.TimeUnit.SECONDS));
        }
        return answers;
    }

    private static void awaitEngine(Predicate<Capacity> condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!condition.test(engine.capacity())) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("never " + what + ": " + engine.capacity());
            }
            Thread.sleep(10);
        }
    }

    private static String header(HttpResponseFor<?> response, String name) {
        List<String> values = response.headers().values(name);
        return values.isEmpty() ? null : values.get(0);
    }

    private static String metrics() throws Exception {
        try (HttpClient http = HttpClient.newHttpClient()) {
            return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
        }
    }
}
