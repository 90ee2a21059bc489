package dev.gatehouse.serving.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.gatehouse.serving.arch.KvCache;
import dev.gatehouse.serving.arch.StepBatch;
import dev.gatehouse.serving.engine.DeviceChoice;
import dev.gatehouse.serving.engine.DtypeChoice;
import dev.gatehouse.serving.engine.Engine;
import dev.gatehouse.serving.engine.EngineConfig;
import dev.gatehouse.serving.engine.Generator;
import dev.gatehouse.serving.engine.LocalModel;
import dev.gatehouse.serving.engine.RequestHandle;
import dev.gatehouse.serving.load.ModelLoadException;
import dev.gatehouse.serving.sample.SamplingParams;
import dev.gatehouse.serving.testing.TensorDtype;
import dev.gatehouse.serving.testing.TestModelFolder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The GPU path on a real GPU (scripts/gpu-check; excluded from the default build by its tag).
 * Without a GPU every check fails, naming why: a GPU check that skipped would read as a pass.
 *
 * <p>Tolerances against the FP32 CPU reference (the same weights, the same libtorch on the CPU),
 * as the largest absolute difference of any logit after prefilling a 24-token prompt: FP32 on the
 * GPU {@value #FP32_TOLERANCE}, FP16 {@value #FP16_TOLERANCE} (FP16 keeps ~3 decimal digits; the
 * test models' logits are of order 1-10). Greedy ids must match the reference for
 * {@value #GREEDY_TOKENS} tokens in both.
 */
@Tag("gpu")
class GpuCheckTest {
    static final double FP32_TOLERANCE = 2e-3;
    static final double FP16_TOLERANCE = 5e-2;
    static final int GREEDY_TOKENS = 16;
    private static Path folders;

    /** The folders the transformers oracle reads too: written once, kept in the report folder. */
    @BeforeAll
    static void writeFolders() throws IOException {
        folders = GpuReport.OUT.resolve("models");
        Files.createDirectories(folders);
        write(TestModelFolder.llama().hidden(256).layers(4).heads(8).kvHeads(2).vocab(512).dtype(TensorDtype.BF16), "llama-bf16");
        write(TestModelFolder.qwen2().hidden(256).layers(4).heads(8).kvHeads(2).vocab(512).dtype(TensorDtype.BF16), "qwen2-bf16");
        write(TestModelFolder.mistral().hidden(256).layers(4).heads(8).kvHeads(2).vocab(512).dtype(TensorDtype.F16), "mistral-f16");
        write(TestModelFolder.gpt2().hidden(256).layers(4).heads(8).vocab(512), "gpt2-f32");
    }

    private static void write(TestModelFolder folder, String name) throws IOException {
        if (!Files.exists(folders.resolve(name).resolve("config.json"))) {
            folder.write(folders.resolve(name));
        }
    }

    private static Device gpu() {
        return DeviceChoice.CUDA.resolve(); // the one-line reason when there is none
    }

    private static int[] prompt(int n) {
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) {
            ids[i] = 3 + (i * 37) % 500;
        }
        return ids;
    }

    private static float[] firstLogits(LocalModel m, int[] prompt) {
        int[] blocks = KvCache.consecutiveBlocks(0, prompt.length);
        try (KvCache cache = m.lm().newCache(blocks.length); NDManager step = m.newStepManager()) {
            NDArray logits = m.lm().forward(StepBatch.single(prompt, 0, blocks), cache, step);
            return logits.toDevice(Device.cpu(), false).toFloatArray();
        }
    }

    private static int[] greedy(LocalModel m, int[] prompt) {
        return new Generator(m).generate(prompt, SamplingParams.greedy().withMaxTokens(GREEDY_TOKENS).withIgnoreEos(true),
                (t, tok) -> {}).tokenIds();
    }

    private static double maxDiff(float[] a, float[] b) {
        double max = 0;
        for (int i = 0; i < a.length; i++) {
            max = Math.max(max, Math.abs((double) a[i] - b[i]));
        }
        return max;
    }

    @Test
    void libtorchSeesAGpu() {
        Device d = gpu();
        assertTrue(d.isGpu());
        GpuReport.row("device", DeviceChoice.CUDA + " -> " + d, "a GPU");
    }

    /** Weights, KV cache and the step's tensors all on the GPU: nothing silently computed on the CPU. */
    @Test
    void everyTensorIsOnTheGpu() {
        Device gpu = gpu();
        try (LocalModel m = LocalModel.load(folders.resolve("llama-bf16"), DeviceChoice.CUDA);
             KvCache cache = m.lm().newCache(8); NDManager step = m.newStepManager()) {
            NDArray logits = m.lm().forward(StepBatch.single(prompt(8), 0, new int[] {0}), cache, step);
            List<NDArray> all = new ArrayList<>(step.getParentManager().getManagedArrays());
            long off = all.stream().filter(a -> !a.getDevice().equals(gpu)).count();
            GpuReport.row("placement", all.size() + " tensors, " + off + " off the GPU", "0 off");
            assertEquals(0, off);
            assertEquals(gpu, logits.getDevice());
            assertEquals(DataType.FLOAT16, m.lm().dtype(), "llama BF16 computes in FP16 on a GPU");
        }
    }

    @Test
    void parityWithTheFp32CpuReference() throws IOException {
        gpu();
        String[][] cases = {{"llama-bf16", "auto"}, {"qwen2-bf16", "auto"}, {"qwen2-bf16", "float16"},
                {"mistral-f16", "auto"}, {"gpt2-f32", "auto"}, {"llama-bf16", "float32"}};
        int[] prompt = prompt(24);
        List<String> failures = new ArrayList<>();
        for (String[] c : cases) {
            Path dir = folders.resolve(c[0]);
            float[] refLogits;
            int[] refIds;
            try (LocalModel cpu = LocalModel.load(dir, DeviceChoice.CPU)) {
                refLogits = firstLogits(cpu, prompt);
                refIds = greedy(cpu, prompt);
            }
            try (LocalModel m = LocalModel.load(dir, DeviceChoice.CUDA, DtypeChoice.parse(c[1]))) {
                float[] logits = firstLogits(m, prompt);
                int[] ids = greedy(m, prompt);
                double diff = maxDiff(refLogits, logits);
                double bound = m.lm().dtype() == DataType.FLOAT16 ? FP16_TOLERANCE : FP32_TOLERANCE;
                boolean idsMatch = Arrays.equals(refIds, ids);
                GpuReport.row("parity " + c[0] + " " + m.dtype().label(),
                        String.format(Locale.ROOT, "max|dlogit| %.2e, greedy %s", diff, idsMatch ? "same" : "DIFFERENT"),
                        String.format(Locale.ROOT, "<= %.0e, same", bound));
                if (diff > bound || !idsMatch) {
                    failures.add(c[0] + "/" + c[1] + ": " + diff + (idsMatch ? "" : " ids " + Arrays.toString(ids)
                            + " vs " + Arrays.toString(refIds)));
                }
                if (c[1].equals("auto")) { // what the transformers oracle compares against
                    GpuReport.write(c[0] + ".json", String.format(Locale.ROOT,
                            "{\"folder\": \"%s\", \"dtype\": \"%s\", \"prompt\": %s, \"greedy\": %s, \"logits\": %s}%n",
                            dir, m.dtype().label(), Arrays.toString(prompt), Arrays.toString(ids), Arrays.toString(logits)), false);
                }
            }
        }
        assertEquals(List.of(), failures);
    }

    /** 16 streams batched on the GPU: each gets exactly the tokens it gets alone. */
    @Test
    void sixteenStreamsDecodeAsTheyDoAlone() throws Exception {
        gpu();
        try (LocalModel m = LocalModel.load(folders.resolve("llama-bf16"), DeviceChoice.CUDA);
             Engine engine = Engine.start(m, EngineConfig.defaults().withMaxRunning(16), new SimpleMeterRegistry())) {
            SamplingParams params = SamplingParams.greedy().withMaxTokens(GREEDY_TOKENS).withIgnoreEos(true);
            List<int[]> prompts = new ArrayList<>();
            List<RequestHandle> handles = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                int[] p = Arrays.copyOfRange(prompt(40), i % 7, 10 + i); // different lengths and contents
                prompts.add(p);
                handles.add(engine.submit(p, params));
            }
            long start = System.nanoTime();
            int same = 0;
            for (int i = 0; i < 16; i++) {
                int[] batched = handles.get(i).collect().tokenIds();
                same += Arrays.equals(batched, greedy(m, prompts.get(i))) ? 1 : 0;
            }
            GpuReport.row("16-stream batch", same + "/16 streams as alone, "
                    + (System.nanoTime() - start) / 1_000_000 + " ms", "16/16");
            assertEquals(16, same);
        }
    }

    /**
     * With the GPU all but full, a load fails with the out-of-memory message and leaves nothing
     * behind: once the filler is gone the same model loads.
     */
    @Test
    void anOutOfMemoryLoadFailsOnlyThatModel() {
        Device gpu = gpu();
        Path dir = folders.resolve("llama-bf16");
        try (NDManager filler = NDManager.newBaseManager(gpu, "PyTorch")) {
            fill(filler);
            ModelLoadException e = assertThrows(ModelLoadException.class, () -> LocalModel.load(dir, DeviceChoice.CUDA));
            GpuReport.row("OOM load", e.getMessage().length() > 90 ? e.getMessage().substring(0, 90) + "..." : e.getMessage(),
                    "out of cuda:0 memory");
            assertTrue(e.getMessage().startsWith("out of cuda:0 memory loading the weights of llama-bf16"), e.getMessage());
        }
        try (LocalModel m = LocalModel.load(dir, DeviceChoice.CUDA)) { // the memory came back
            assertEquals(16, greedy(m, prompt(8)).length);
        }
    }

    /** Takes all but about 1 MiB of the GPU, in 1 GiB blocks and then smaller ones. */
    private static void fill(NDManager filler) {
        for (long block = 1L << 30; block >= 1L << 20; block >>= 1) {
            while (true) {
                try {
                    filler.zeros(new Shape(block), DataType.INT8);
                } catch (RuntimeException full) {
                    break;
                }
            }
        }
    }
}
