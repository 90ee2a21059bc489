package dev.gatehouse.serving.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** What crosses from the device to the host per step: one id per greedy row, k candidates per top-k row, whole rows only when asked. */
class LogitsReadbackTest {
    private static final int VOCAB = 1000;

    private static float[] logits(int rows) {
        Random r = new Random(42);
        float[] l = new float[rows * VOCAB];
        for (int i = 0; i < l.length; i++) {
            l[i] = (float) r.nextGaussian();
        }
        return l;
    }

    private static int argmax(float[] flat, int row) {
        int best = 0;
        for (int i = 1; i < VOCAB; i++) {
            if (flat[row * VOCAB + i] > flat[row * VOCAB + best]) {
                best = i;
            }
        }
        return best;
    }

    @Test
    void greedyRowsReadBackOneIdNotTheVocabulary() {
        float[] flat = logits(3);
        try (NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
            NDArray logits = m.create(flat, new Shape(3, VOCAB));
            LogitsReadback.Row[] rows = LogitsReadback.read(logits, new int[] {1, 1, LogitsReadback.NONE});
            for (int b = 0; b < 2; b++) {
                assertNull(rows[b].full());
                assertArrayEquals(new int[] {argmax(flat, b)}, rows[b].ids());
            }
            assertEquals(new LogitsReadback.Row(null, null, null), rows[2], "a mid-prompt chunk reads nothing");
        }
    }

    @Test
    void mixedRowsEachGetWhatTheirSamplerNeeds() {
        float[] flat = logits(4);
        try (NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
            NDArray logits = m.create(flat, new Shape(4, VOCAB));
            LogitsReadback.Row[] rows = LogitsReadback.read(logits, new int[] {1, 5, LogitsReadback.FULL, 40});
            assertEquals(1, rows[0].ids().length);
            assertEquals(argmax(flat, 0), rows[0].ids()[0]);
            assertEquals(5, rows[1].ids().length, "k candidates, not the vocabulary");
            assertEquals(5, rows[1].values().length);
            assertEquals(40, rows[3].ids().length);
            for (int j = 0; j < 40; j++) {
                assertEquals(flat[3 * VOCAB + rows[3].ids()[j]], rows[3].values()[j], "value of id " + rows[3].ids()[j]);
                if (j > 0) {
                    assertEquals(true, rows[3].values()[j] <= rows[3].values()[j - 1], "largest first");
                }
            }
            assertNull(rows[1].full());
            float[] row2 = new float[VOCAB];
            System.arraycopy(flat, 2 * VOCAB, row2, 0, VOCAB);
            assertArrayEquals(row2, rows[2].full(), "the whole row, for the sampler that needs it");
        }
    }

    @Test
    void aTopKLargerThanTheVocabularyGetsTheVocabulary() {
        try (NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
            NDArray logits = m.create(new float[] {0.1f, 0.3f, 0.2f}, new Shape(1, 3));
            LogitsReadback.Row row = LogitsReadback.read(logits, new int[] {50})[0];
            assertArrayEquals(new int[] {1, 2, 0}, row.ids());
        }
    }
}
