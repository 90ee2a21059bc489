package dev.gatehouse.serving.engine;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Every {@link EngineTest} with the weights mapped for the Java forward pass (prefill and decode in Java). */
class EngineOnJavaForwardTest extends EngineTest {
    @BeforeAll
    static void load() throws Exception {
        load(WeightsDtype.STORED);
    }

    @Test
    void theWeightsAreTheJavaKernels() {
        assertTrue(model.dtype().why().contains("F32 weights kept as stored"), model.dtype().why());
    }
}
