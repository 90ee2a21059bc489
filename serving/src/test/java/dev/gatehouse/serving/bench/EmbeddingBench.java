package dev.gatehouse.serving.bench;

import dev.gatehouse.serving.embed.AllMiniLmL6V2;
import dev.gatehouse.serving.embed.BatchLimits;
import dev.gatehouse.serving.embed.EmbeddingBatcher;
import dev.gatehouse.serving.embed.EmbeddingModel;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * all-MiniLM-L6-v2 (the real model, ONNX) under N concurrent clients sending one sentence per
 * request: sentences/s with dynamic batching (the default batcher) against one at a time (a
 * batcher of size 1). Run with {@code scripts/bench-embeddings}.
 */
public final class EmbeddingBench {
    private static final String[] SENTENCES = {
            "A man is eating food.", "A man is riding a white horse on an enclosed ground.",
            "The new movie is awesome for everyone who likes action films.", "A cheetah is running behind its prey.",
            "Two men pushed carts through the woods.", "Someone in a gorilla costume is playing a set of drums.",
            "The quick brown fox jumps over the lazy dog near the riverbank at dawn.", "A woman is playing violin."};

    public static void main(String[] args) throws Exception {
        int seconds = Integer.getInteger("bench.seconds", 5);
        int[] clients = Arrays.stream(System.getProperty("bench.clients", "1,8,32").split(","))
                .mapToInt(Integer::parseInt).toArray();
        List<String> rows = new ArrayList<>();
        try (EmbeddingModel model = AllMiniLmL6V2.load(Path.of("target/bench-models"))) {
            List<int[]> inputs = Arrays.stream(SENTENCES).map(model::tokenize).toList();
            for (int n : clients) {
                double single;
                double batched;
                try (EmbeddingBatcher oneAtATime = new EmbeddingBatcher(model, new BatchLimits(1, Duration.ZERO), size -> {})) {
                    run(oneAtATime, inputs, n, 1); // warm-up
                    single = run(oneAtATime, inputs, n, seconds);
                }
                try (EmbeddingBatcher dynamic = new EmbeddingBatcher(model, BatchLimits.DEFAULTS, size -> {})) {
                    run(dynamic, inputs, n, 1);
                    batched = run(dynamic, inputs, n, seconds);
                }
                rows.add(String.format("| %d | %.0f | %.0f | %.1fx |", n, single, batched, batched / single));
            }
        }
        System.out.printf("%nall-MiniLM-L6-v2 (ONNX Runtime, CPU, %d cores), one sentence per request, %d s per row%n%n",
                Runtime.getRuntime().availableProcessors(), seconds);
        System.out.println("| clients | one at a time, sentences/s | dynamic batching, sentences/s | speed-up |");
        System.out.println("|---|---|---|---|");
        rows.forEach(System.out::println);
    }

    /** Sentences per second with {@code clients} threads each embedding one sentence per request. */
    private static double run(EmbeddingBatcher batcher, List<int[]> inputs, int clients, int seconds) throws Exception {
        AtomicLong done = new AtomicLong();
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        List<Thread> threads = new ArrayList<>();
        long start = System.nanoTime();
        for (int c = 0; c < clients; c++) {
            int offset = c;
            threads.add(Thread.ofPlatform().start(() -> {
                for (int i = offset; System.nanoTime() < deadline; i++) {
                    batcher.embed(List.of(inputs.get(i % inputs.size()))).join();
                    done.incrementAndGet();
                }
            }));
        }
        for (Thread t : threads) {
            t.join();
        }
        return done.get() / ((System.nanoTime() - start) / 1e9);
    }
}
