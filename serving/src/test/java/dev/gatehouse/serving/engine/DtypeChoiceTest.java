package dev.gatehouse.serving.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.gatehouse.serving.arch.Llama;
import dev.gatehouse.serving.arch.WeightLoader;
import dev.gatehouse.serving.load.ModelConfig;
import dev.gatehouse.serving.load.ModelWeights;
import dev.gatehouse.serving.load.Safetensors.DType;
import dev.gatehouse.serving.sample.SamplingParams;
import dev.gatehouse.serving.testing.TensorDtype;
import dev.gatehouse.serving.testing.TestModelFolder;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The compute type: never BF16 (DJL 0.36 aborts the JVM on it), FP16 on a GPU for the BF16
 * families that fit it, FP32 otherwise, overridable per model.
 */
class DtypeChoiceTest {
    @TempDir
    Path tmp;

    @Test
    void autoOnTheCpuIsFloat32WhateverTheCheckpoint() {
        for (DType stored : DType.values()) {
            assertEquals(DataType.FLOAT32, DtypeChoice.AUTO.resolve("LlamaForCausalLM", stored, false).type());
        }
    }

    @Test
    void autoOnAGpuKeepsF16AndF32AndMapsBf16PerFamily() {
        assertEquals(DataType.FLOAT16, DtypeChoice.AUTO.resolve("Qwen2ForCausalLM", DType.F16, true).type());
        assertEquals(DataType.FLOAT32, DtypeChoice.AUTO.resolve("LlamaForCausalLM", DType.F32, true).type());
        for (String fits : new String[] {"LlamaForCausalLM", "MistralForCausalLM", "GPT2LMHeadModel"}) {
            DtypeChoice.Resolved r = DtypeChoice.AUTO.resolve(fits, DType.BF16, true);
            assertEquals(DataType.FLOAT16, r.type(), fits);
            assertEquals("float16", r.label());
            assertTrue(r.why().contains("bfloat16 checkpoint") && r.why().contains(fits), r.why());
        }
        for (String outliers : new String[] {"Qwen2ForCausalLM", "Qwen3ForCausalLM", "SomethingNewForCausalLM"}) {
            DtypeChoice.Resolved r = DtypeChoice.AUTO.resolve(outliers, DType.BF16, true);
            assertEquals(DataType.FLOAT32, r.type(), outliers);
            assertTrue(r.why().contains("not known to fit float16"), r.why());
        }
    }

    @Test
    void aSettingWinsOnEveryDevice() {
        for (boolean gpu : new boolean[] {false, true}) {
            assertEquals(DataType.FLOAT32, DtypeChoice.parse("float32").resolve("LlamaForCausalLM", DType.BF16, gpu).type());
            assertEquals(DataType.FLOAT16, DtypeChoice.parse(" FP16 ").resolve("Qwen2ForCausalLM", DType.BF16, gpu).type());
            assertEquals("set for this model", DtypeChoice.FLOAT16.resolve("Qwen2ForCausalLM", DType.BF16, gpu).why());
        }
    }

    @Test
    void bfloat16AndNonsenseAreRefusedWithTheReason() {
        for (String bf16 : new String[] {"bfloat16", "BF16"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DtypeChoice.parse(bf16));
            assertTrue(e.getMessage().contains("DJL 0.36") && e.getMessage().contains("float16 or float32"), e.getMessage());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DtypeChoice.parse("int8"));
        assertEquals("dtype must be auto, float16 or float32, not 'int8'", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new DtypeChoice.Resolved(DataType.BFLOAT16, "x"));
    }

    /** Every cast site refuses BF16 before any native call: the weights, and the model (rope, masks, KV cache). */
    @Test
    void noCastSiteAcceptsBfloat16() throws IOException {
        Path dir = TestModelFolder.llama().dtype(TensorDtype.BF16).write(tmp.resolve("bf16"));
        ModelWeights weights = ModelWeights.open(dir);
        try (NDManager manager = NDManager.newBaseManager(ai.djl.Device.cpu(), "PyTorch")) {
            IllegalArgumentException load = assertThrows(IllegalArgumentException.class,
                    () -> weights.load("model.norm.weight", manager, DataType.BFLOAT16, 64));
            assertTrue(load.getMessage().contains("not bfloat16"), load.getMessage());
            IllegalArgumentException model = assertThrows(IllegalArgumentException.class,
                    () -> new Llama(ModelConfig.load(dir), new WeightLoader(weights, manager, DataType.BFLOAT16, false)));
            assertTrue(model.getMessage().contains("float16 or float32"), model.getMessage());
        }
    }

    /**
     * A BF16 checkpoint through the GPU code path's casts (widened in Java, computed in FP16: weights,
     * rotary tables, masks, KV cache) on the CPU, where PyTorch also runs FP16: it loads, generates
     * the same greedy tokens as FP32, and nothing reaches DJL's BF16 lookup (which would abort this JVM).
     */
    @Test
    void aBf16CheckpointComputesInFloat16WithTheSameGreedyTokens() throws IOException {
        Path dir = TestModelFolder.llama().dtype(TensorDtype.BF16).write(tmp.resolve("bf16-llama"));
        SamplingParams params = SamplingParams.greedy().withMaxTokens(8).withIgnoreEos(true);
        int[] fp32;
        try (LocalModel m = LocalModel.load(dir, DeviceChoice.CPU)) {
            assertEquals(DataType.FLOAT32, m.lm().dtype());
            fp32 = new Generator(m).generate(new int[] {1, 20, 21, 22}, params, (text, token) -> {}).tokenIds();
        }
        try (LocalModel m = LocalModel.load(dir, DeviceChoice.CPU, DtypeChoice.FLOAT16)) {
            assertEquals(DataType.FLOAT16, m.lm().dtype());
            assertEquals("float16", m.dtype().label());
            int[] fp16 = new Generator(m).generate(new int[] {1, 20, 21, 22}, params, (text, token) -> {}).tokenIds();
            assertArrayEquals(fp32, fp16);
        }
    }
}
