package dev.gatehouse.serving.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.types.DataType;
import dev.gatehouse.serving.load.Safetensors.DType;
import org.junit.jupiter.api.Test;

/** When 16-bit weights stay 16-bit: auto, on the CPU, computing in FP32, for a 16-bit checkpoint. */
class WeightsDtypeTest {
    private static final DtypeChoice.Resolved FP32 = new DtypeChoice.Resolved(DataType.FLOAT32, "cpu");
    private static final DtypeChoice.Resolved FP16 = new DtypeChoice.Resolved(DataType.FLOAT16, "set for this model");

    @Test
    void autoKeepsBf16AndF16OnTheCpuOnly() {
        assertTrue(WeightsDtype.VECTOR_API, "the tests run with --add-modules jdk.incubator.vector");
        assertTrue(WeightsDtype.AUTO.keepsStored(DType.BF16, FP32, false));
        assertTrue(WeightsDtype.AUTO.keepsStored(DType.F16, FP32, false));
        assertFalse(WeightsDtype.AUTO.keepsStored(DType.F32, FP32, false), "nothing to narrow: PyTorch's product");
        assertTrue(WeightsDtype.STORED.keepsStored(DType.F32, FP32, false), "mapped, not copied into PyTorch");
        assertFalse(WeightsDtype.AUTO.keepsStored(DType.BF16, FP32, true), "a GPU computes 16-bit itself");
        assertFalse(WeightsDtype.AUTO.keepsStored(DType.F16, FP16, false), "dtype float16 on the CPU is PyTorch's");
        assertTrue(WeightsDtype.STORED.keepsStored(DType.BF16, FP32, false));
        assertFalse(WeightsDtype.F32.keepsStored(DType.BF16, FP32, false));
        assertFalse(WeightsDtype.F32.keepsStored(DType.BF16, FP32, false));
    }

    @Test
    void parsesTheSettingAndRefusesTheRest() {
        assertEquals(WeightsDtype.AUTO, WeightsDtype.parse(" Auto "));
        assertEquals(WeightsDtype.STORED, WeightsDtype.parse("stored"));
        assertEquals(WeightsDtype.F32, WeightsDtype.parse("f32"));
        assertEquals(WeightsDtype.F32, WeightsDtype.parse("float32"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> WeightsDtype.parse("bf16"));
        assertEquals("weights-dtype must be auto, stored or f32, not 'bf16'", e.getMessage());
    }
}
