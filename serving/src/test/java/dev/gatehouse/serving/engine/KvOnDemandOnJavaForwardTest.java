package dev.gatehouse.serving.engine;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Every {@link KvOnDemandTest} (preemption and recompute included) with the weights mapped for the Java forward pass. */
class KvOnDemandOnJavaForwardTest extends KvOnDemandTest {
    @BeforeAll
    static void load() throws Exception {
        load(WeightsDtype.STORED);
    }

    @Test
    void theWeightsAreTheJavaKernels() {
        assertTrue(model.dtype().why().contains("F32 weights kept as stored"), model.dtype().why());
    }
}
