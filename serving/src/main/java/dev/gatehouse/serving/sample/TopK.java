package dev.gatehouse.serving.sample;

/**
 * Partial selection of the k largest values with a bounded min-heap: O(n log k) worst case and
 * close to one comparison per element in practice, so a 152k vocabulary is never fully sorted.
 */
final class TopK {
    private TopK() {
    }

    /**
     * Indices of the k largest values, largest first; equal values keep the lowest index first
     * (so results are deterministic) and NaN counts as negative infinity.
     */
    static int[] largest(float[] values, int k) {
        k = Math.min(k, values.length);
        if (k <= 0) {
            return new int[0];
        }
        int[] heap = new int[k]; // heap[0] is the worst of those kept so far
        int size = 0;
        float rootKey = 0;
        for (int i = 0; i < values.length; i++) {
            if (size < k) {
                heap[size] = i;
                siftUp(heap, size++, values);
                rootKey = key(values[heap[0]]);
            } else if (values[i] > rootKey) {
                // strictly greater: i is a later index, so on a tie the kept one wins (NaN never wins)
                heap[0] = i;
                siftDown(heap, size, values);
                rootKey = key(values[heap[0]]);
            }
        }
        int[] out = new int[k];
        for (int j = k - 1; j >= 0; j--) { // pop worst first, filling from the back
            out[j] = heap[0];
            heap[0] = heap[--size];
            siftDown(heap, size, values);
        }
        return out;
    }

    private static float key(float v) {
        return v != v ? Float.NEGATIVE_INFINITY : v;
    }

    /** a ranks below b: smaller value, or the same value at a higher index. */
    private static boolean worse(float[] values, int a, int b) {
        float x = key(values[a]);
        float y = key(values[b]);
        return x < y || (x == y && a > b);
    }

    private static void siftUp(int[] heap, int pos, float[] values) {
        while (pos > 0) {
            int parent = (pos - 1) >>> 1;
            if (!worse(values, heap[pos], heap[parent])) {
                return;
            }
            swap(heap, pos, parent);
            pos = parent;
        }
    }

    private static void siftDown(int[] heap, int size, float[] values) {
        int pos = 0;
        while (true) {
            int left = 2 * pos + 1;
            if (left >= size) {
                return;
            }
            int child = left + 1 < size && worse(values, heap[left + 1], heap[left]) ? left + 1 : left;
            if (!worse(values, heap[child], heap[pos])) {
                return;
            }
            swap(heap, pos, child);
            pos = child;
        }
    }

    private static void swap(int[] a, int i, int j) {
        int t = a[i];
        a[i] = a[j];
        a[j] = t;
    }
}
