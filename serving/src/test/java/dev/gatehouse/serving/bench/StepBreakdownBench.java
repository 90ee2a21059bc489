package dev.gatehouse.serving.bench;

import dev.gatehouse.serving.cpu.CpuMatrix;
import dev.gatehouse.serving.engine.DeviceChoice;
import dev.gatehouse.serving.engine.DtypeChoice;
import dev.gatehouse.serving.engine.Generator;
import dev.gatehouse.serving.engine.LocalModel;
import dev.gatehouse.serving.engine.WeightsDtype;
import dev.gatehouse.serving.load.Safetensors;
import dev.gatehouse.serving.sample.SamplingParams;
import dev.gatehouse.serving.testing.TensorDtype;
import dev.gatehouse.serving.testing.TestModelFolder;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Where a one-stream decode token's time goes on the Java step ({@code weights-dtype: stored}), F32 and
 * BF16: the whole token (a {@link Generator} decode), against the same checkpoint's products alone, mapped
 * as the model maps them (q/k/v and gate/up stacked) and multiplied by one token in a step's order, per
 * kind: ms per token, MB per token, GB/s. What the whole token takes beyond all its products is the rest
 * of the step: norms, RoPE, attention, SwiGLU, embedding, the logits tensor and its argmax, the
 * generator around the step. Decode and products alternate over the rounds; best round of each.
 *
 * <p>Arguments: a shape (default smollm2-135m). Knobs: -Dbench.tokens (32 per round), -Dbench.rounds (4).
 */
public final class StepBreakdownBench {
    private static final String[] KINDS = {"q/k/v", "o", "gate/up", "down", "LM head"};

    public static void main(String[] args) throws Exception {
        String name = args.length > 0 ? args[0] : "smollm2-135m";
        int tokens = Integer.getInteger("bench.tokens", 32);
        int rounds = Integer.getInteger("bench.rounds", 4);
        System.out.printf("%s, one stream, %d tokens a round, best of %d; %d cores, load average %s%n%n", name, tokens, rounds,
                Runtime.getRuntime().availableProcessors(), Files.readString(Path.of("/proc/loadavg")).substring(0, 14));
        System.out.println("| weights | part | calls a token | MB a token | ms a token | GB/s | share of the token |");
        System.out.println("|---|---|---|---|---|---|---|");
        for (TensorDtype dtype : new TensorDtype[] {TensorDtype.F32, TensorDtype.BF16}) {
            breakdown(name, dtype, tokens, rounds);
        }
    }

    private static void breakdown(String name, TensorDtype dtype, int tokens, int rounds) throws Exception {
        Path dir = folder(name, dtype);
        Products products = new Products(Safetensors.open(dir.resolve("model.safetensors")));
        int[] prompt = BenchModels.shape(name).randomTokens(64, 1);
        SamplingParams greedy = SamplingParams.greedy().withMaxTokens(tokens).withIgnoreEos(true);
        double bestToken = Double.MAX_VALUE;
        double bestProducts = Double.MAX_VALUE;
        double[] bestKinds = null;
        try (LocalModel model = LocalModel.load(dir, DeviceChoice.CPU, DtypeChoice.AUTO, WeightsDtype.STORED)) {
            new Generator(model).generate(prompt, greedy.withMaxTokens(4), (t, tok) -> {}); // warm-up
            products.token(new double[KINDS.length]);
            for (int r = 0; r < rounds; r++) {
                double perSecond = new Generator(model).generate(prompt, greedy, (t, tok) -> {}).decodeTokensPerSecond();
                bestToken = Math.min(bestToken, 1e3 / perSecond);
                double[] kinds = new double[KINDS.length];
                long start = System.nanoTime();
                for (int t = 0; t < tokens; t++) {
                    products.token(kinds);
                }
                double ms = (System.nanoTime() - start) / 1e6 / tokens;
                if (ms < bestProducts) {
                    bestProducts = ms;
                    bestKinds = kinds;
                }
            }
        }
        double allMb = 0;
        for (int k = 0; k < KINDS.length; k++) {
            double ms = bestKinds[k] / tokens;
            allMb += products.mb[k];
            System.out.printf("| %s | %s | %d | %.1f | %.2f | %.1f | %.0f %% |%n", dtype, KINDS[k], products.calls[k], products.mb[k], ms,
                    products.mb[k] / ms, 100 * ms / bestToken);
        }
        System.out.printf("| %s | all products | %d | %.1f | %.2f | %.1f | %.0f %% |%n", dtype, products.order.size(), allMb, bestProducts,
                allMb / bestProducts, 100 * bestProducts / bestToken);
        System.out.printf("| %s | the rest of the step (whole token - products) | | | %.2f | | %.0f %% |%n", dtype,
                bestToken - bestProducts, 100 * (bestToken - bestProducts) / bestToken);
        System.out.printf("| %s | **whole token** (decode %.1f tok/s) | | %.1f | %.2f | %.1f | 100 %% |%n", dtype, 1e3 / bestToken, allMb,
                bestToken, allMb / bestToken);
    }

    /** The checkpoint's matrices in a step's order, one random activation row each. */
    private static final class Products {
        final List<CpuMatrix> order = new ArrayList<>();
        final List<Integer> kindOf = new ArrayList<>();
        final int[] calls = new int[KINDS.length];
        final double[] mb = new double[KINDS.length];
        final List<float[]> xs = new ArrayList<>();
        final List<float[]> ys = new ArrayList<>();

        Products(Safetensors file) {
            Map<String, Safetensors.TensorInfo> all = file.tensors();
            for (int l = 0; all.containsKey("model.layers." + l + ".self_attn.q_proj.weight"); l++) {
                String a = "model.layers." + l + ".self_attn.";
                String m = "model.layers." + l + ".mlp.";
                add(file, 0, a + "q_proj.weight", a + "k_proj.weight", a + "v_proj.weight");
                add(file, 1, a + "o_proj.weight");
                add(file, 2, m + "gate_proj.weight", m + "up_proj.weight");
                add(file, 3, m + "down_proj.weight");
            }
            add(file, 4, all.containsKey("lm_head.weight") ? "lm_head.weight" : "model.embed_tokens.weight");
        }

        private void add(Safetensors file, int kind, String... names) {
            List<ByteBuffer> parts = new ArrayList<>();
            CpuMatrix.Format format = null;
            int cols = 0;
            for (String name : names) {
                Safetensors.TensorInfo info = file.tensors().get(name);
                format = CpuMatrix.Format.valueOf(info.dtype().name());
                cols = Math.toIntExact(info.shape()[1]);
                parts.add(file.map(info));
            }
            CpuMatrix matrix = new CpuMatrix(format, cols, parts);
            order.add(matrix);
            kindOf.add(kind);
            calls[kind]++;
            mb[kind] += (double) matrix.rows() * matrix.cols() * format.bytes() / 1e6;
            Random random = new Random(order.size());
            float[] x = new float[cols];
            for (int c = 0; c < cols; c++) {
                x[c] = (float) random.nextGaussian();
            }
            xs.add(x);
            ys.add(new float[matrix.rows()]);
        }

        /** One token's products, each one's nanoseconds added to its kind in {@code nanos}. */
        void token(double[] nanos) {
            for (int i = 0; i < order.size(); i++) {
                long t0 = System.nanoTime();
                order.get(i).multiply(xs.get(i), 1, ys.get(i));
                nanos[kindOf.get(i)] += (System.nanoTime() - t0) / 1e6;
            }
        }
    }

    /** The shape's checkpoint in {@code dtype}: BenchModels' F32 folder, or the -bf16 one DecodeBench writes. */
    private static Path folder(String name, TensorDtype dtype) throws Exception {
        if (dtype == TensorDtype.F32) {
            return BenchModels.folder(name);
        }
        Path dir = Path.of(System.getProperty("bench.models", "target/bench-models")).resolve(name + "-bf16");
        if (!Files.exists(dir.resolve("config.json"))) {
            System.err.println("writing random " + name + " in BF16 to " + dir + " ...");
            TestModelFolder shape = BenchModels.shape(name);
            shape.dtype(TensorDtype.BF16).write(dir);
            shape.dtype(TensorDtype.F32); // the shape is shared: back to BenchModels' F32
        }
        return dir;
    }
}
