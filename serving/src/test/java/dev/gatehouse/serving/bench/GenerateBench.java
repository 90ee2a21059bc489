package dev.gatehouse.serving.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.gatehouse.serving.engine.DeviceChoice;
import dev.gatehouse.serving.engine.DtypeChoice;
import dev.gatehouse.serving.engine.GenerationResult;
import dev.gatehouse.serving.engine.Generator;
import dev.gatehouse.serving.engine.LocalModel;
import dev.gatehouse.serving.engine.WeightsDtype;
import dev.gatehouse.serving.sample.SamplingParams;
import dev.gatehouse.serving.testing.TestModelFolder;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Single-stream generation speed on random-weight models of real shapes, next to the
 * memory-bandwidth ceiling (decoding one token reads every weight once, so tokens/s can not exceed
 * read bandwidth / weight bytes). Run with {@code scripts/bench-generate}; see docs/benchmarks.md.
 * -Dbench.weights picks the weights-dtype (auto).
 */
public final class GenerateBench {
    public static void main(String[] args) throws Exception {
        int promptTokens = Integer.getInteger("bench.prompt", 256);
        int decodeTokens = Integer.getInteger("bench.tokens", 64);
        int runs = Integer.getInteger("bench.runs", 3);

        double[] bandwidth = bandwidth();
        List<String> rows = new ArrayList<>();
        for (String name : BenchModels.names(args)) {
            TestModelFolder shape = BenchModels.shape(name);
            Path dir = BenchModels.folder(name);
            WeightsDtype weights = WeightsDtype.parse(System.getProperty("bench.weights", "auto"));
            try (LocalModel model = LocalModel.load(dir, DeviceChoice.CPU, DtypeChoice.AUTO, weights)) {
                long weightBytes = weightBytes(dir);
                double copyCeiling = bandwidth[0] * 1e9 / weightBytes;
                double readCeiling = bandwidth[1] * 1e9 / weightBytes;
                int[] prompt = shape.randomTokens(promptTokens, 1);
                SamplingParams greedy = SamplingParams.greedy().withMaxTokens(decodeTokens).withIgnoreEos(true);
                Generator generator = new Generator(model);
                generator.generate(prompt, greedy.withMaxTokens(4), (t, tok) -> {}); // warm-up
                double bestDecode = 0;
                double bestPrefill = 0;
                for (int r = 0; r < runs; r++) {
                    GenerationResult result = generator.generate(prompt, greedy, (t, tok) -> {});
                    bestDecode = Math.max(bestDecode, result.decodeTokensPerSecond());
                    bestPrefill = Math.max(bestPrefill, result.promptTokensPerSecond());
                }
                rows.add(String.format("| %s | %.0f | %.1f | %.1f | %.1f | %.1f | %.1f | %.0f %% | %.0f %% | %.0f |", name,
                        weightBytes / 1e6, bandwidth[0], bandwidth[1], copyCeiling, readCeiling, bestDecode,
                        100 * bestDecode / copyCeiling, 100 * bestDecode / readCeiling, bestPrefill));
            }
        }
        System.out.printf("%nsingle stream, FP32 on CPU (%d cores), prompt %d tokens, %d decoded tokens, best of %d%n%n",
                Runtime.getRuntime().availableProcessors(), promptTokens, decodeTokens, runs);
        System.out.println("| model shape | weights MB | copy GB/s | read GB/s | ceiling tok/s (copy) | ceiling tok/s (read) "
                + "| decode tok/s | of copy ceiling | of read ceiling | prefill tok/s |");
        System.out.println("|---|---|---|---|---|---|---|---|---|---|");
        rows.forEach(System.out::println);
    }

    /** Bytes of the weight files: what one decode step must stream from memory. */
    private static long weightBytes(Path dir) throws Exception {
        try (var files = Files.list(dir)) {
            return files.filter(p -> p.toString().endsWith(".safetensors")).mapToLong(p -> p.toFile().length()).sum();
        }
    }

    /**
     * Best-of-5 memory bandwidth through PyTorch on 512 MiB FP32 arrays: [0] a copy into an array
     * that is already allocated and touched (so page faults are not timed), counted as bytes read +
     * written (STREAM's convention), [1] a sum, which only reads, as decoding does.
     */
    private static double[] bandwidth() {
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray src = manager.ones(new Shape(128, 1024, 1024), DataType.FLOAT32);
            NDArray dst = manager.zeros(src.getShape(), DataType.FLOAT32);
            NDIndex all = new NDIndex(":");
            double bytes = src.size() * 4.0;
            double copy = 0;
            double read = 0;
            for (int i = 0; i < 5; i++) {
                long t0 = System.nanoTime();
                dst.set(all, src);
                long t1 = System.nanoTime();
                src.sum().close();
                long t2 = System.nanoTime();
                copy = Math.max(copy, 2 * bytes / (t1 - t0));
                read = Math.max(read, bytes / (t2 - t1));
            }
            return new double[] {copy, read};
        }
    }
}
