package dev.gatehouse.serving.bench;

import dev.gatehouse.serving.engine.DeviceChoice;
import dev.gatehouse.serving.engine.DtypeChoice;
import dev.gatehouse.serving.engine.Engine;
import dev.gatehouse.serving.engine.EngineConfig;
import dev.gatehouse.serving.engine.Generator;
import dev.gatehouse.serving.engine.LocalModel;
import dev.gatehouse.serving.engine.RequestHandle;
import dev.gatehouse.serving.engine.WeightsDtype;
import dev.gatehouse.serving.sample.SamplingParams;
import dev.gatehouse.serving.testing.TensorDtype;
import dev.gatehouse.serving.testing.TestModelFolder;

import java.nio.file.Files;
import java.nio.file.Path;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import java.util.ArrayList;
import java.util.List;

/**
 * CPU decode, every way a Llama-family model can run, loaded in one JVM and interleaved so that each
 * sees the same machine: an F32 checkpoint in PyTorch ({@code weights-dtype: f32}, what {@code auto}
 * gives an F32 checkpoint on the CPU), the same checkpoint mapped for the Java forward pass
 * ({@code stored}), and a BF16 checkpoint of the same shape mapped for it ({@code stored}, half the bytes). Columns: one-stream decode through {@link Generator}, the batching
 * {@link Engine} with 1 and 16 streams (aggregate tokens/s, prompts included), and prefill; best of
 * the rounds. Prints one markdown table.
 *
 * <p>Arguments: shapes (default smollm2-135m,qwen2.5-0.5b). Knobs: -Dbench.prompt (64), -Dbench.tokens
 * (32), -Dbench.rounds (2), -Dbench.streams (16).
 */
public final class DecodeBench {
    private record Way(String label, Path folder, WeightsDtype weights) {}

    public static void main(String[] args) throws Exception {
        int promptTokens = Integer.getInteger("bench.prompt", 64);
        int decodeTokens = Integer.getInteger("bench.tokens", 32);
        int rounds = Integer.getInteger("bench.rounds", 2);
        int streams = Integer.getInteger("bench.streams", 16);
        System.out.printf("%d cores, prompt %d tokens, %d decoded, best of %d interleaved rounds%n%n",
                Runtime.getRuntime().availableProcessors(), promptTokens, decodeTokens, rounds);
        System.out.printf("| shape | weights | path (weights-dtype) | weight GB | decode tok/s | vs PyTorch | serve 1 stream tok/s "
                + "| serve %d streams tok/s | vs PyTorch | prefill tok/s |%n", streams);
        System.out.println("|---|---|---|---|---|---|---|---|---|---|");
        for (String name : BenchModels.names(args)) {
            TestModelFolder shape = BenchModels.shape(name);
            Path f32 = BenchModels.folder(name);
            Path bf16 = bf16Folder(name, shape);
            List<Way> ways = List.of(new Way("F32 | PyTorch (f32)", f32, WeightsDtype.F32),
                    new Way("F32 | Java, mapped (stored)", f32, WeightsDtype.STORED),
                    new Way("BF16 | Java, mapped (stored)", bf16, WeightsDtype.STORED));
            LocalModel[] models = new LocalModel[ways.size()];
            Engine[] engines = new Engine[ways.size()];
            double[] decode = new double[ways.size()];
            double[] prefill = new double[ways.size()];
            double[] serveOne = new double[ways.size()];
            double[] serveMany = new double[ways.size()];
            int[] prompt = shape.randomTokens(promptTokens, 1);
            SamplingParams greedy = SamplingParams.greedy().withMaxTokens(decodeTokens).withIgnoreEos(true);
            EngineConfig config = EngineConfig.defaults().withMaxRunning(streams).withMaxWaiting(4 * streams)
                    .withMaxModelLength(promptTokens + decodeTokens + 1).withKvCacheBytes(1L << 30).withPrefixCache(false);
            try {
                for (int w = 0; w < ways.size(); w++) {
                    models[w] = LocalModel.load(ways.get(w).folder(), DeviceChoice.CPU, DtypeChoice.AUTO, ways.get(w).weights());
                    new Generator(models[w]).generate(prompt, greedy.withMaxTokens(4), (t, tok) -> {}); // warm-up
                    engines[w] = Engine.start(models[w], config, new SimpleMeterRegistry());
                    serve(engines[w], shape, 2, promptTokens, greedy.withMaxTokens(4));
                }
                for (int r = 0; r < rounds; r++) {
                    for (int w = 0; w < ways.size(); w++) {
                        var result = new Generator(models[w]).generate(prompt, greedy, (t, tok) -> {});
                        decode[w] = Math.max(decode[w], result.decodeTokensPerSecond());
                        prefill[w] = Math.max(prefill[w], result.promptTokensPerSecond());
                        serveOne[w] = Math.max(serveOne[w], serve(engines[w], shape, 1, promptTokens, greedy));
                        serveMany[w] = Math.max(serveMany[w], serve(engines[w], shape, streams, promptTokens, greedy));
                    }
                }
            } finally {
                for (int w = 0; w < ways.size(); w++) {
                    if (engines[w] != null) {
                        engines[w].close();
                    }
                    if (models[w] != null) {
                        models[w].close();
                    }
                }
            }
            for (int w = 0; w < ways.size(); w++) {
                System.out.printf("| %s | %s | %.2f | %.1f | %.2fx | %.1f | %.1f | %.2fx | %.0f |%n", name, ways.get(w).label(),
                        weightBytes(ways.get(w).folder()) / 1e9, decode[w], decode[w] / decode[0], serveOne[w], serveMany[w],
                        serveMany[w] / serveMany[0], prefill[w]);
            }
        }
    }

    /** {@code n} streams submitted together: generated tokens per second from the first submit to the last token. */
    private static double serve(Engine engine, TestModelFolder shape, int n, int promptTokens, SamplingParams params)
            throws InterruptedException {
        long start = System.nanoTime();
        List<RequestHandle> handles = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            handles.add(engine.submit(shape.randomTokens(promptTokens, 1000 + i), params));
        }
        long tokens = 0;
        for (RequestHandle h : handles) {
            tokens += h.collect().tokenIds().length;
        }
        return tokens / ((System.nanoTime() - start) / 1e9);
    }

    /** The BF16 checkpoint of {@code name} (shared with WeightsDtypeBench), written on first use. */
    private static Path bf16Folder(String name, TestModelFolder shape) throws Exception {
        Path dir = Path.of(System.getProperty("bench.models", "target/bench-models")).resolve(name + "-bf16");
        if (!Files.exists(dir.resolve("config.json"))) {
            System.err.println("writing random " + name + " in BF16 to " + dir + " ...");
            shape.dtype(TensorDtype.BF16).write(dir);
            shape.dtype(TensorDtype.F32); // the shape is shared: back to BenchModels' F32
        }
        return dir;
    }

    private static long weightBytes(Path dir) throws Exception {
        try (var files = Files.list(dir)) {
            return files.filter(p -> p.toString().endsWith(".safetensors")).mapToLong(p -> p.toFile().length()).sum();
        }
    }
}
