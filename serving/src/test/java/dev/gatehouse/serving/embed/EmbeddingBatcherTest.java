package dev.gatehouse.serving.embed;

import ai.djl.Device;
import dev.gatehouse.serving.testing.BertTestFolder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EmbeddingBatcherTest {
    @TempDir
    Path dir;

    @Test
    void concurrentRequestsShareForwardPassesAndGetTheirOwnVectors() throws Exception {
        BertTestFolder f = new BertTestFolder().seed(21);
        Path folder = f.write(dir.resolve("m"));
        List<Integer> sizes = new CopyOnWriteArrayList<>();
        try (EmbeddingModel reference = EmbeddingModel.load(folder, Device.cpu());
             EmbeddingModel model = EmbeddingModel.load(folder, Device.cpu());
             EmbeddingBatcher batcher = new EmbeddingBatcher(model, new BatchLimits(8, Duration.ofMillis(50)), sizes::add)) {
            List<int[]> inputs = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                inputs.add(BertTest.withSpecials(f.randomWords(1 + i % 7, i)));
            }
            List<CompletableFuture<List<float[]>>> futures = new ArrayList<>();
            for (int[] in : inputs) {
                futures.add(batcher.embed(List.of(in)));
            }
            for (int i = 0; i < inputs.size(); i++) {
                float[] alone = reference.embed(List.of(inputs.get(i)))[0];
                assertArrayEquals(alone, futures.get(i).get().get(0), 1e-6f, "input " + i);
            }
            assertTrue(sizes.stream().allMatch(s -> s <= 8), "max batch size respected: " + sizes);
            assertTrue(sizes.size() < inputs.size(), "requests were batched: " + sizes);
        }
    }

    @Test
    void requestsRacingCloseFailClearlyInsteadOfHanging() throws Exception {
        Path folder = new BertTestFolder().seed(3).write(dir.resolve("m"));
        try (EmbeddingModel model = EmbeddingModel.load(folder, Device.cpu())) {
            for (int round = 0; round < 20; round++) {
                EmbeddingBatcher batcher = new EmbeddingBatcher(model, BatchLimits.DEFAULTS, size -> {});
                List<CompletableFuture<List<float[]>>> futures = new CopyOnWriteArrayList<>();
                Thread caller = Thread.ofPlatform().start(() -> {
                    for (int i = 0; i < 200; i++) {
                        futures.add(batcher.embed(List.of(new int[] {BertTestFolder.CLS, 7, BertTestFolder.SEP})));
                    }
                });
                batcher.close();
                caller.join();
                for (CompletableFuture<List<float[]>> f : futures) {
                    try {
                        f.get(5, TimeUnit.SECONDS); // embedded before the close, or failed: never left waiting
                    } catch (ExecutionException e) {
                        assertInstanceOf(IllegalStateException.class, e.getCause());
                        assertTrue(e.getCause().getMessage().contains("was unloaded"), e.getCause().getMessage());
                    }
                }
            }
            EmbeddingBatcher closed = new EmbeddingBatcher(model, BatchLimits.DEFAULTS, size -> {});
            closed.close();
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> closed.embed(List.of(new int[] {BertTestFolder.CLS, BertTestFolder.SEP})).get(5, TimeUnit.SECONDS));
            assertEquals("embedding model " + model.name() + " was unloaded", e.getCause().getMessage());
        }
    }
}
