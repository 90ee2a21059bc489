package dev.gatehouse.serving.bench;

import dev.gatehouse.serving.engine.DeviceChoice;
import dev.gatehouse.serving.engine.DtypeChoice;
import dev.gatehouse.serving.engine.GenerationResult;
import dev.gatehouse.serving.engine.Generator;
import dev.gatehouse.serving.engine.LocalModel;
import dev.gatehouse.serving.engine.WeightsDtype;
import dev.gatehouse.serving.sample.SamplingParams;
import dev.gatehouse.serving.testing.SparseCheckpoint;
import dev.gatehouse.serving.testing.TensorDtype;
import dev.gatehouse.serving.testing.TestModelFolder;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;

/**
 * One BF16 checkpoint served one way in this JVM ({@code weights-dtype} auto: 16-bit weights and the
 * Vector API kernels; f32: widened for PyTorch), printing one table row: resident memory after the
 * run, decode and prefill tokens/s. One process per row, so the resident memory is that row's alone;
 * {@code scripts/bench-weights-dtype} alternates the two ways in one run. Shapes: the random ones of
 * {@link BenchModels} written in BF16, TinyLlama-1.1B's (random) and Llama-2-7B's ({@link
 * SparseCheckpoint}: all zeros, no disk, as fast as real weights since every weight is still read).
 *
 * <p>Arguments: shape, auto|f32. Knobs: -Dbench.prompt (default 64), -Dbench.tokens (32), -Dbench.runs (2).
 */
public final class WeightsDtypeBench {
    private static final Map<String, TestModelFolder> MORE_SHAPES = Map.of(
            "tinyllama-1.1b", TestModelFolder.llama().hidden(2048).intermediate(5632).layers(22).heads(32).kvHeads(4)
                    .vocab(32000).maxPositions(2048));

    public static void main(String[] args) throws Exception {
        String shape = args[0];
        WeightsDtype weights = WeightsDtype.parse(args[1]);
        int promptTokens = Integer.getInteger("bench.prompt", 64);
        int decodeTokens = Integer.getInteger("bench.tokens", 32);
        int runs = Integer.getInteger("bench.runs", 2);
        Path dir = folder(shape);

        long start = System.nanoTime();
        try (LocalModel model = LocalModel.load(dir, DeviceChoice.CPU, DtypeChoice.AUTO, weights)) {
            double loadSeconds = (System.nanoTime() - start) / 1e9;
            int[] prompt = new Random(1).ints(promptTokens, 0, 256).toArray(); // ids every shape's tokenizer has
            SamplingParams greedy = SamplingParams.greedy().withMaxTokens(decodeTokens).withIgnoreEos(true);
            Generator generator = new Generator(model);
            generator.generate(prompt, greedy.withMaxTokens(4), (t, tok) -> {}); // warm-up: JIT, pages of the weights
            double decode = 0;
            double prefill = 0;
            for (int r = 0; r < runs; r++) {
                GenerationResult result = generator.generate(prompt, greedy, (t, tok) -> {});
                decode = Math.max(decode, result.decodeTokensPerSecond());
                prefill = Math.max(prefill, result.promptTokensPerSecond());
            }
            Map<String, Long> rss = residentKb();
            System.out.printf("| %s | %s | %.1f | %.2f | %.2f | %.2f | %.2f | %.2f |%n", shape, weights == WeightsDtype.AUTO
                            ? "BF16 kept (Vector API)" : "widened to F32 (PyTorch)",
                    weightGb(dir), rss.get("VmRSS") / 1e6 * 1.024, rss.get("RssAnon") / 1e6 * 1.024,
                    rss.get("RssFile") / 1e6 * 1.024, decode, prefill);
        }
    }

    /** The checkpoint's size: its safetensors files. */
    private static double weightGb(Path dir) throws Exception {
        try (var files = Files.list(dir)) {
            return files.filter(p -> p.toString().endsWith(".safetensors")).mapToLong(p -> p.toFile().length()).sum() / 1e9;
        }
    }

    /** VmRSS and its anonymous (heap, PyTorch's tensors) and file-backed (memory-mapped weights) parts, in kB. */
    private static Map<String, Long> residentKb() throws Exception {
        Map<String, Long> kb = new java.util.HashMap<>();
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            String[] parts = line.split("\\s+");
            if (parts[0].startsWith("VmRSS") || parts[0].startsWith("RssAnon") || parts[0].startsWith("RssFile")) {
                kb.put(parts[0].replace(":", ""), Long.parseLong(parts[1]));
            }
        }
        return kb;
    }

    /** The BF16 checkpoint of {@code shape} under -Dbench.models (default target/bench-models), written on first use. */
    private static Path folder(String shape) throws Exception {
        Path dir = Path.of(System.getProperty("bench.models", "target/bench-models")).resolve(shape + "-bf16");
        if (Files.exists(dir.resolve("config.json"))) {
            return dir;
        }
        System.err.println("writing " + shape + " in BF16 to " + dir + " ...");
        if (shape.equals("llama2-7b-sparse")) {
            return SparseCheckpoint.llama2_7b(dir, TensorDtype.BF16);
        }
        TestModelFolder folder = MORE_SHAPES.containsKey(shape) ? MORE_SHAPES.get(shape) : BenchModels.shape(shape);
        return folder.dtype(TensorDtype.BF16).write(dir);
    }
}
