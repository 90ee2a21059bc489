package dev.gatehouse.serving.bench;

import dev.gatehouse.serving.engine.DeviceChoice;
import dev.gatehouse.serving.engine.DtypeChoice;
import dev.gatehouse.serving.engine.Engine;
import dev.gatehouse.serving.engine.EngineConfig;
import dev.gatehouse.serving.engine.EngineEvent;
import dev.gatehouse.serving.engine.Generator;
import dev.gatehouse.serving.engine.LocalModel;
import dev.gatehouse.serving.engine.RequestHandle;
import dev.gatehouse.serving.engine.WeightsDtype;
import dev.gatehouse.serving.sample.SamplingParams;
import dev.gatehouse.serving.testing.TestModelFolder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The batching engine in-process under N concurrent streams (32-token prompts, 64 greedy tokens
 * each): aggregate generated tokens/s, time to first token and inter-token latency, next to the
 * unbatched {@link Generator} on the same prompt. Run with {@code scripts/bench-engine}; -Dbench.weights
 * picks the weights-dtype (auto).
 */
public final class EngineBench {
    public static void main(String[] args) throws Exception {
        int promptTokens = Integer.getInteger("bench.prompt", 32);
        int newTokens = Integer.getInteger("bench.tokens", 64);
        int[] streams = Arrays.stream(System.getProperty("bench.streams", "1,4,16").split(","))
                .mapToInt(Integer::parseInt).toArray();
        int maxStreams = Arrays.stream(streams).max().orElse(1);
        List<String> rows = new ArrayList<>();
        for (String name : BenchModels.names(args)) {
            TestModelFolder shape = BenchModels.shape(name);
            SamplingParams greedy = SamplingParams.greedy().withMaxTokens(newTokens).withIgnoreEos(true);
            WeightsDtype weights = WeightsDtype.parse(System.getProperty("bench.weights", "auto"));
            try (LocalModel model = LocalModel.load(BenchModels.folder(name), DeviceChoice.CPU, DtypeChoice.AUTO, weights)) {
                Generator generator = new Generator(model);
                int[] prompt = shape.randomTokens(promptTokens, 1);
                generator.generate(prompt, greedy.withMaxTokens(4), (t, tok) -> {}); // warm-up
                double unbatched = generator.generate(prompt, greedy, (t, tok) -> {}).decodeTokensPerSecond();
                rows.add(String.format("| %s | unbatched generator | 1 | %.1f | | | | |", name, unbatched));
                EngineConfig config = EngineConfig.defaults().withMaxRunning(maxStreams).withMaxWaiting(4 * maxStreams)
                        .withMaxModelLength(promptTokens + newTokens + 1).withKvCacheBytes(4L << 30);
                try (Engine engine = Engine.start(model, config, new SimpleMeterRegistry())) {
                    run(engine, shape, 2, promptTokens, greedy.withMaxTokens(8)); // warm-up
                    for (int n : streams) {
                        rows.add(String.format("| %s | engine | %d | %s", name, n, run(engine, shape, n, promptTokens, greedy)));
                    }
                }
            }
        }
        System.out.printf("%nengine, FP32 on CPU (%d cores), %d-token prompts, %d greedy tokens per stream%n%n",
                Runtime.getRuntime().availableProcessors(), promptTokens, newTokens);
        System.out.println("| model shape | path | streams | tokens/s (all streams) | TTFT p50 ms | TTFT p99 ms | ITL p50 ms | ITL p99 ms |");
        System.out.println("|---|---|---|---|---|---|---|---|");
        rows.forEach(System.out::println);
    }

    /** N streams submitted together, each read on its own thread; returns the table columns after "streams". */
    private static String run(Engine engine, TestModelFolder shape, int n, int promptTokens, SamplingParams params)
            throws Exception {
        ExecutorService readers = Executors.newFixedThreadPool(n);
        List<Future<long[]>> results = new ArrayList<>();
        long start = System.nanoTime();
        for (int i = 0; i < n; i++) {
            int[] prompt = shape.randomTokens(promptTokens, 1000 + i);
            results.add(readers.submit(() -> timeStream(engine, prompt, params)));
        }
        List<Long> ttft = new ArrayList<>();
        List<Long> gaps = new ArrayList<>();
        long tokens = 0;
        for (Future<long[]> f : results) {
            long[] times = f.get(); // token arrival times, relative to submit
            ttft.add(times[0]);
            for (int i = 1; i < times.length; i++) {
                gaps.add(times[i] - times[i - 1]);
            }
            tokens += times.length;
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        readers.shutdown();
        return String.format("%.1f | %.0f | %.0f | %.1f | %.1f |", tokens / seconds, ms(ttft, 50), ms(ttft, 99),
                ms(gaps, 50), ms(gaps, 99));
    }

    private static long[] timeStream(Engine engine, int[] prompt, SamplingParams params) throws InterruptedException {
        long submitted = System.nanoTime();
        RequestHandle handle = engine.submit(prompt, params);
        List<Long> arrivals = new ArrayList<>();
        while (true) {
            EngineEvent e = handle.next();
            if (e instanceof EngineEvent.Token) {
                arrivals.add(System.nanoTime() - submitted);
            } else if (e instanceof EngineEvent.Failed f) {
                throw new IllegalStateException(f.message());
            } else {
                return arrivals.stream().mapToLong(Long::longValue).toArray();
            }
        }
    }

    private static double ms(List<Long> nanos, int percentile) {
        long[] sorted = nanos.stream().mapToLong(Long::longValue).sorted().toArray();
        if (sorted.length == 0) {
            return 0;
        }
        int index = (int) Math.ceil(percentile / 100.0 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, index))] / 1e6;
    }
}
