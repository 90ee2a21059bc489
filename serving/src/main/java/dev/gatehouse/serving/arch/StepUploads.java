package dev.gatehouse.serving.arch;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

import java.util.ArrayList;
import java.util.List;

/**
 * The host arrays one forward pass needs on the device (token ids, positions, rotary angles, masks,
 * KV-cache indices), gathered before layer 0 and sent as one float and one int transfer: each
 * transfer to a GPU is a synchronous copy, so six small ones cost six round trips. Floats arrive in
 * the model's dtype and ints as INT64, each cast once for the whole buffer.
 */
final class StepUploads {
    /** One array of the step; {@link #get} once {@link #send} has run. */
    static final class Ref {
        private final boolean floats;
        private final int offset;
        private final Shape shape;
        private NDArray array;

        private Ref(boolean floats, int offset, Shape shape) {
            this.floats = floats;
            this.offset = offset;
            this.shape = shape;
        }

        NDArray get() {
            if (array == null) {
                throw new IllegalStateException("step inputs used before they were sent");
            }
            return array;
        }
    }

    private final List<float[]> floatParts = new ArrayList<>();
    private final List<int[]> intParts = new ArrayList<>();
    private final List<Ref> refs = new ArrayList<>();
    private int floatCount;
    private int intCount;

    Ref floats(float[] data, Shape shape) {
        Ref ref = new Ref(true, floatCount, shape);
        floatParts.add(data);
        floatCount += data.length;
        refs.add(ref);
        return ref;
    }

    Ref ints(int[] data, Shape shape) {
        Ref ref = new Ref(false, intCount, shape);
        intParts.add(data);
        intCount += data.length;
        refs.add(ref);
        return ref;
    }

    /** Sends everything gathered to {@code step}'s device; each Ref is then a view of its part. */
    void send(NDManager step, DataType floatType) {
        NDArray allFloats = floatCount == 0 ? null : cast(step.create(join(floatParts, floatCount)), floatType);
        NDArray allInts = intCount == 0 ? null : cast(step.create(joinInts(intParts, intCount)), DataType.INT64);
        for (Ref ref : refs) {
            NDArray all = ref.floats ? allFloats : allInts;
            long size = ref.shape.size();
            ref.array = all.get(new NDIndex().addSliceDim(ref.offset, ref.offset + size)).reshape(ref.shape);
        }
    }

    private static NDArray cast(NDArray array, DataType type) {
        return array.getDataType() == type ? array : array.toType(type, false);
    }

    private static float[] join(List<float[]> parts, int count) {
        float[] all = new float[count];
        int at = 0;
        for (float[] p : parts) {
            System.arraycopy(p, 0, all, at, p.length);
            at += p.length;
        }
        return all;
    }

    private static int[] joinInts(List<int[]> parts, int count) {
        int[] all = new int[count];
        int at = 0;
        for (int[] p : parts) {
            System.arraycopy(p, 0, all, at, p.length);
            at += p.length;
        }
        return all;
    }
}
