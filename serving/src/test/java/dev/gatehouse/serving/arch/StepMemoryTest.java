package dev.gatehouse.serving.arch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.gatehouse.serving.testing.TestModelFolder;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a step keeps alive until it ends: its inputs and the residual stream, not every layer's
 * intermediates (on a GPU a long prefill chunk's attention scores, layer after layer, would add up
 * to tens of GB); and its host inputs go to the device as one float and one int transfer.
 */
class StepMemoryTest {
    @TempDir
    Path tmp;

    private int arraysLeftAfterAStep(TestModelFolder folder, String name) throws IOException {
        try (EngineRun run = new EngineRun(folder.write(tmp.resolve(name)));
             KvCache cache = run.model.lm().newCache(4);
             NDManager step = run.model.newStepManager()) {
            run.model.lm().forward(new StepBatch(new int[] {5, 6, 7, 8, 9, 10, 11, 12}, 2, 4, new int[] {0, 0},
                    new int[][] {{0, 1}, {2, 3}}), cache, step);
            return step.getManagedArrays().size();
        }
    }

    @Test
    void aLayersIntermediatesAreFreedWhenTheLayerEnds() throws IOException {
        int twoLayers = arraysLeftAfterAStep(TestModelFolder.llama().layers(2), "llama-2");
        int eightLayers = arraysLeftAfterAStep(TestModelFolder.llama().layers(8), "llama-8");
        assertEquals(twoLayers, eightLayers, "arrays held by the step do not grow with the layers");
        assertEquals(arraysLeftAfterAStep(TestModelFolder.gpt2().layers(2), "gpt2-2"),
                arraysLeftAfterAStep(TestModelFolder.gpt2().layers(6), "gpt2-6"));
    }

    @Test
    void stepInputsArriveAsTheirValuesInTheirTypes() {
        try (NDManager step = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
            StepUploads uploads = new StepUploads();
            StepUploads.Ref a = uploads.floats(new float[] {1.5f, -2f, 3f, 4f}, new Shape(2, 2));
            StepUploads.Ref ids = uploads.ints(new int[] {7, 8, 9}, new Shape(3));
            StepUploads.Ref b = uploads.floats(new float[] {Float.NEGATIVE_INFINITY, 0f}, new Shape(1, 2));
            assertThrows(IllegalStateException.class, a::get, "not sent yet");
            uploads.send(step, DataType.FLOAT16);
            assertEquals(DataType.FLOAT16, a.get().getDataType());
            assertEquals(new Shape(2, 2), a.get().getShape());
            assertArrayEquals(new float[] {1.5f, -2f, 3f, 4f}, a.get().toType(DataType.FLOAT32, false).toFloatArray());
            assertArrayEquals(new float[] {Float.NEGATIVE_INFINITY, 0f}, b.get().toType(DataType.FLOAT32, false).toFloatArray());
            assertEquals(DataType.INT64, ids.get().getDataType());
            assertArrayEquals(new long[] {7, 8, 9}, ids.get().toLongArray());
        }
    }
}
