package dev.gatehouse.serving.bench;

import dev.gatehouse.serving.engine.DeviceChoice;
import dev.gatehouse.serving.engine.DtypeChoice;
import dev.gatehouse.serving.engine.Generator;
import dev.gatehouse.serving.engine.LocalModel;
import dev.gatehouse.serving.engine.WeightsDtype;
import dev.gatehouse.serving.sample.SamplingParams;
import dev.gatehouse.serving.testing.TensorDtype;
import dev.gatehouse.serving.testing.TestModelFolder;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * One-stream decode, three ways in one JVM, interleaved so that each sees the same machine: an F32
 * checkpoint in PyTorch ({@code weights-dtype: f32}), the same checkpoint mapped for the Vector API
 * kernels ({@code stored}), and a BF16 checkpoint of the same shape mapped for them ({@code stored},
 * half the bytes per token). Prints one markdown table: decode and prefill tokens/s, best of the rounds.
 *
 * <p>Arguments: shapes (default smollm2-135m,qwen2.5-0.5b). Knobs: -Dbench.prompt (64), -Dbench.tokens
 * (32), -Dbench.rounds (3).
 */
public final class DecodeBench {
    private record Way(String label, Path folder, WeightsDtype weights) {}

    public static void main(String[] args) throws Exception {
        int promptTokens = Integer.getInteger("bench.prompt", 64);
        int decodeTokens = Integer.getInteger("bench.tokens", 32);
        int rounds = Integer.getInteger("bench.rounds", 3);
        System.out.printf("%d cores, prompt %d tokens, %d decoded, best of %d interleaved rounds%n%n",
                Runtime.getRuntime().availableProcessors(), promptTokens, decodeTokens, rounds);
        System.out.println("| shape | weights | multiplied by | weight GB | decode tok/s | vs PyTorch F32 | prefill tok/s |");
        System.out.println("|---|---|---|---|---|---|---|");
        for (String name : BenchModels.names(args)) {
            TestModelFolder shape = BenchModels.shape(name);
            Path f32 = BenchModels.folder(name);
            Path bf16 = bf16Folder(name, shape);
            List<Way> ways = List.of(new Way("F32 | PyTorch", f32, WeightsDtype.F32),
                    new Way("F32 | Java (CpuMatrix)", f32, WeightsDtype.STORED),
                    new Way("BF16 | Java (CpuMatrix)", bf16, WeightsDtype.STORED));
            LocalModel[] models = new LocalModel[ways.size()];
            double[] decode = new double[ways.size()];
            double[] prefill = new double[ways.size()];
            int[] prompt = shape.randomTokens(promptTokens, 1);
            SamplingParams greedy = SamplingParams.greedy().withMaxTokens(decodeTokens).withIgnoreEos(true);
            try {
                for (int w = 0; w < ways.size(); w++) {
                    models[w] = LocalModel.load(ways.get(w).folder(), DeviceChoice.CPU, DtypeChoice.AUTO, ways.get(w).weights());
                    new Generator(models[w]).generate(prompt, greedy.withMaxTokens(4), (t, tok) -> {}); // warm-up
                }
                for (int r = 0; r < rounds; r++) {
                    for (int w = 0; w < ways.size(); w++) {
                        var result = new Generator(models[w]).generate(prompt, greedy, (t, tok) -> {});
                        decode[w] = Math.max(decode[w], result.decodeTokensPerSecond());
                        prefill[w] = Math.max(prefill[w], result.promptTokensPerSecond());
                    }
                }
            } finally {
                for (LocalModel model : models) {
                    if (model != null) {
                        model.close();
                    }
                }
            }
            for (int w = 0; w < ways.size(); w++) {
                System.out.printf("| %s | %s | %.2f | %.1f | %.2fx | %.0f |%n", name, ways.get(w).label(),
                        weightBytes(ways.get(w).folder()) / 1e9, decode[w], decode[w] / decode[0], prefill[w]);
            }
        }
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
