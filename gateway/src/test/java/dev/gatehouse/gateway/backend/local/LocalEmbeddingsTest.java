package dev.gatehouse.gateway.backend.local;

import dev.gatehouse.serving.embed.AllMiniLmL6V2;
import dev.gatehouse.serving.embed.BatchLimits;
import dev.gatehouse.serving.embed.EmbeddingBatcher;
import dev.gatehouse.serving.engine.DeviceChoice;
import dev.gatehouse.serving.engine.EngineConfig;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Embedding models in {@link LocalModels}: the batch limits of {@code serve --embedding-max-*} and the per-model meters. */
class LocalEmbeddingsTest {
    @TempDir
    Path store;

    @Test
    void theEmbeddedDefaultModelIsServedUnlessTurnedOff() {
        MeterRegistry registry = new SimpleMeterRegistry();
        try (LocalModels models = new LocalModels(BatchLimits.DEFAULTS, false)) {
            models.loadAll(store, DeviceChoice.CPU, EngineConfig.defaults(), registry);
            assertTrue(models.ready());
            assertTrue(models.embeddings(AllMiniLmL6V2.NAME).isEmpty(), "serve --no-default-embedding-model");
        }
        try (LocalModels models = new LocalModels(BatchLimits.DEFAULTS)) {
            models.loadAll(store, DeviceChoice.CPU, EngineConfig.defaults(), registry);
            assertTrue(models.embeddings(AllMiniLmL6V2.NAME).isPresent(), "served by default");
        }
    }

    @Test
    void batchersTakeTheConfiguredLimitsAndCountRequestsInputsAndLatency() throws Exception {
        MeterRegistry registry = new SimpleMeterRegistry();
        try (LocalModels models = new LocalModels(new BatchLimits(2, Duration.ofMillis(200)))) {
            models.loadAll(store, DeviceChoice.CPU, EngineConfig.defaults(), registry);
            EmbeddingBatcher batcher = models.embeddings(AllMiniLmL6V2.NAME).orElseThrow();
            List<List<int[]>> inputs = new ArrayList<>(); // tokenized first, so all arrive within the delay
            for (int i = 0; i < 5; i++) {
                inputs.add(List.of(batcher.model().tokenize("sentence number " + i)));
            }
            inputs.add(List.of(batcher.model().tokenize("one"), batcher.model().tokenize("two")));
            List<CompletableFuture<List<float[]>>> requests = inputs.stream().map(batcher::embed).toList();
            for (CompletableFuture<List<float[]>> r : requests) {
                r.get(60, TimeUnit.SECONDS);
            }
            String model = AllMiniLmL6V2.NAME;
            var batchSizes = registry.get("gatehouse.embedding.batch.size").tag("model", model).summary();
            assertEquals(2.0, batchSizes.max(), "at most --embedding-max-batch inputs per pass, and the delay fills them");
            assertEquals(7.0, batchSizes.totalAmount());
            assertEquals(6.0, registry.get("gatehouse.embedding.requests").tag("model", model).counter().count());
            assertEquals(7.0, registry.get("gatehouse.embedding.inputs").tag("model", model).counter().count());
            var latency = registry.get("gatehouse.embedding.latency").tag("model", model).timer();
            assertEquals(6, latency.count());
            assertTrue(latency.totalTime(TimeUnit.NANOSECONDS) > 0);

            models.unload(model, 1000, registry);
            assertFalse(registry.getMeters().stream().anyMatch(m -> model.equals(m.getId().getTag("model"))),
                    "an unloaded model's meters go with it");
        }
    }

    @Test
    void unloadingWaitsForRequestsStillUsingTheModel() throws Exception {
        MeterRegistry registry = new SimpleMeterRegistry();
        try (LocalModels models = new LocalModels()) {
            models.loadAll(store, DeviceChoice.CPU, EngineConfig.defaults(), registry);
            String model = AllMiniLmL6V2.NAME;
            LocalEmbedder.Lease lease = models.leaseEmbeddings(model).orElseThrow();
            Thread unload = Thread.ofPlatform().start(() -> {
                try {
                    models.unload(model, 30_000, registry);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            unload.join(500);
            assertTrue(unload.isAlive(), "the unload waits for the request holding the model");
            assertTrue(models.leaseEmbeddings(model).isEmpty(), "no new requests while it unloads");
            EmbeddingBatcher batcher = lease.batcher(); // the running request still tokenizes and embeds
            float[] vector = batcher.embed(List.of(batcher.model().tokenize("still here"))).get(60, TimeUnit.SECONDS).get(0);
            assertEquals(batcher.model().dimensions(), vector.length);
            lease.close();
            unload.join(10_000);
            assertFalse(unload.isAlive(), "the unload goes on once the request is done");
            assertTrue(models.embeddings(model).isEmpty());
        }
    }
}
