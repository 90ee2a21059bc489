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

/**
 * One-stream decode of a BF16 (or, with -Dbench.dtype=f32, F32) checkpoint on the Java path ({@code weights-dtype: stored}) alone, as
 * {@link DecodeBench}'s last row runs it but without the PyTorch and F32 rows: short enough to run several
 * times against two builds, alternating ({@code scripts/bench-ab}). Prints one line: decode tokens/s, best
 * of the rounds, and the load average.
 *
 * <p>Arguments: a shape (default smollm2-135m). Knobs: -Dbench.prompt (64), -Dbench.tokens (32), -Dbench.rounds (3),
 * -Dbench.dtype (bf16; f32 reads the F32 folder DecodeBench uses, the weights Java 22+ reads in place).
 */
public final class JavaDecodeBench {
    public static void main(String[] args) throws Exception {
        String name = args.length > 0 ? args[0] : "smollm2-135m";
        int promptTokens = Integer.getInteger("bench.prompt", 64);
        int decodeTokens = Integer.getInteger("bench.tokens", 32);
        int rounds = Integer.getInteger("bench.rounds", 3);
        boolean f32 = System.getProperty("bench.dtype", "bf16").equalsIgnoreCase("f32");
        TestModelFolder shape = BenchModels.shape(name);
        Path dir = f32 ? BenchModels.folder(name) : Path.of(System.getProperty("bench.models", "target/bench-models")).resolve(name + "-bf16");
        if (!Files.exists(dir.resolve("config.json"))) { // the folder DecodeBench's BF16 row uses
            System.err.println("writing random " + name + " in BF16 to " + dir + " ...");
            shape.dtype(TensorDtype.BF16).write(dir);
            shape.dtype(TensorDtype.F32); // the shape is shared: back to BenchModels' F32
        }
        int[] prompt = shape.randomTokens(promptTokens, 1);
        SamplingParams greedy = SamplingParams.greedy().withMaxTokens(decodeTokens).withIgnoreEos(true);
        double best = 0;
        try (LocalModel model = LocalModel.load(dir, DeviceChoice.CPU, DtypeChoice.AUTO, WeightsDtype.STORED)) {
            new Generator(model).generate(prompt, greedy.withMaxTokens(4), (t, tok) -> {}); // warm-up
            for (int r = 0; r < rounds; r++) {
                best = Math.max(best, new Generator(model).generate(prompt, greedy, (t, tok) -> {}).decodeTokensPerSecond());
            }
        }
        System.out.printf("%s %s on the Java path: %.1f decode tok/s (best of %d x %d tokens), load average %s%n", name, f32 ? "F32" : "BF16", best,
                rounds, decodeTokens, Files.readString(Path.of("/proc/loadavg")).substring(0, 14));
    }
}
