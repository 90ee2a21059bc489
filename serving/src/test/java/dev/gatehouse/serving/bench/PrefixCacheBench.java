package dev.gatehouse.serving.bench;

import dev.gatehouse.serving.engine.DeviceChoice;
import dev.gatehouse.serving.engine.Engine;
import dev.gatehouse.serving.engine.EngineConfig;
import dev.gatehouse.serving.engine.EngineEvent;
import dev.gatehouse.serving.engine.LocalModel;
import dev.gatehouse.serving.engine.RequestHandle;
import dev.gatehouse.serving.sample.SamplingParams;
import dev.gatehouse.serving.testing.TestModelFolder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

/**
 * Time to first token of a request that shares a long system prompt with an earlier one, against
 * the earlier (cold) one, with the prefix cache on and off, in one run: each round takes a new
 * random system prompt ({@code bench.system} tokens, default 1000) and sends two requests, the
 * system prompt followed by two different {@code bench.question}-token questions, one after the
 * other. Run with {@code scripts/bench-prefix-cache [shape]}.
 */
public final class PrefixCacheBench {
    public static void main(String[] args) throws Exception {
        int systemTokens = Integer.getInteger("bench.system", 1000);
        int questionTokens = Integer.getInteger("bench.question", 20);
        int rounds = Integer.getInteger("bench.rounds", 5);
        SamplingParams oneToken = SamplingParams.greedy().withMaxTokens(1).withIgnoreEos(true);
        List<String> rows = new ArrayList<>();
        for (String name : BenchModels.names(args)) {
            TestModelFolder shape = BenchModels.shape(name);
            EngineConfig base = EngineConfig.defaults().withMaxModelLength(4096).withKvCacheBytes(512L << 20);
            try (LocalModel model = LocalModel.load(BenchModels.folder(name), DeviceChoice.CPU);
                 Engine on = Engine.start(model, base, new SimpleMeterRegistry());
                 Engine off = Engine.start(model, base.withPrefixCache(false), new SimpleMeterRegistry())) {
                ttft(on, shape.randomTokens(64, 7), oneToken); // warm-up
                ttft(off, shape.randomTokens(64, 7), oneToken);
                double[][] ms = new double[4][rounds]; // cold on, warm on, cold off, warm off
                for (int r = 0; r < rounds; r++) {
                    int[] system = shape.randomTokens(systemTokens, 100 + r);
                    int[] first = concat(system, shape.randomTokens(questionTokens, 200 + r));
                    int[] second = concat(system, shape.randomTokens(questionTokens, 300 + r));
                    ms[0][r] = ttft(on, first, oneToken);
                    ms[1][r] = ttft(on, second, oneToken);
                    ms[2][r] = ttft(off, first, oneToken);
                    ms[3][r] = ttft(off, second, oneToken);
                    System.err.printf("round %d: on %.0f -> %.0f ms, off %.0f -> %.0f ms%n", r, ms[0][r], ms[1][r], ms[2][r], ms[3][r]);
                }
                double[] ratios = IntStream.range(0, rounds).mapToDouble(r -> ms[1][r] / ms[0][r]).toArray();
                rows.add(String.format("| %s | on | %.0f | %.0f | %.1f %% (%.1f-%.1f %%) |", name, median(ms[0]), median(ms[1]),
                        100 * median(ratios), 100 * min(ratios), 100 * max(ratios)));
                double[] offRatios = IntStream.range(0, rounds).mapToDouble(r -> ms[3][r] / ms[2][r]).toArray();
                rows.add(String.format("| %s | off | %.0f | %.0f | %.1f %% (%.1f-%.1f %%) |", name, median(ms[2]), median(ms[3]),
                        100 * median(offRatios), 100 * min(offRatios), 100 * max(offRatios)));
            }
        }
        System.out.printf("%nprefix cache, FP32 on CPU (%d cores), %d-token system prompt + %d-token question, %d rounds (medians)%n%n",
                Runtime.getRuntime().availableProcessors(), systemTokens, questionTokens, rounds);
        System.out.println("| model shape | prefix cache | first request TTFT ms | second request TTFT ms | second / first (range) |");
        System.out.println("|---|---|---|---|---|");
        rows.forEach(System.out::println);
    }

    private static double ttft(Engine engine, int[] prompt, SamplingParams params) throws InterruptedException {
        long start = System.nanoTime();
        RequestHandle handle = engine.submit(prompt, params);
        EngineEvent first = handle.next();
        if (!(first instanceof EngineEvent.Token)) {
            throw new IllegalStateException("no token: " + first);
        }
        double ms = (System.nanoTime() - start) / 1e6;
        handle.collect();
        return ms;
    }

    private static int[] concat(int[] a, int[] b) {
        return IntStream.concat(IntStream.of(a), IntStream.of(b)).toArray();
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        java.util.Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    private static double min(double[] v) {
        return java.util.Arrays.stream(v).min().orElse(0);
    }

    private static double max(double[] v) {
        return java.util.Arrays.stream(v).max().orElse(0);
    }
}
