package dev.gatehouse.serving.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.gatehouse.serving.arch.Layers;
import dev.gatehouse.serving.cpu.CpuMatrix;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Random;

/**
 * One linear layer, the way a model step runs it: PyTorch on FP32 weights against the Java Vector
 * API kernel on the same weights in BF16 (half the bytes), activations from a float[] and back as
 * the model's 16-bit path does. Several layers of a real shape are cycled so the weights come from
 * memory, not the cache. Prints µs per layer and the weight bytes streamed per second.
 *
 * <p>Arguments: tokens per call (default 1,64). -Dbench.shape=OUTxIN (default 4864x896, Qwen2.5-0.5B's
 * up projection), -Dbench.layers (24), -Dbench.seconds (3 per measurement).
 */
public final class LinearBench {
    public static void main(String[] args) {
        String[] dims = System.getProperty("bench.shape", "4864x896").split("x");
        int out = Integer.parseInt(dims[0]);
        int in = Integer.parseInt(dims[1]);
        int layers = Integer.getInteger("bench.layers", 24);
        double seconds = Double.parseDouble(System.getProperty("bench.seconds", "3"));
        Random random = new Random(1);
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray[] f32 = new NDArray[layers];
            CpuMatrix[] bf16 = new CpuMatrix[layers];
            for (int l = 0; l < layers; l++) {
                float[] w = new float[out * in];
                ByteBuffer half = CpuMatrix.allocate(CpuMatrix.Format.BF16, out, in);
                for (int i = 0; i < w.length; i++) {
                    short b = (short) (Float.floatToIntBits((float) random.nextGaussian()) >>> 16);
                    w[i] = Float.intBitsToFloat(b << 16);
                    half.putShort(2 * i, b);
                }
                f32[l] = manager.create(w, new Shape(out, in));
                bf16[l] = new CpuMatrix(CpuMatrix.Format.BF16, in, List.of(half));
            }
            System.out.printf("%d cores, %d layers of [%d x %d], load average %s%n%n", Runtime.getRuntime().availableProcessors(),
                    layers, out, in, loadAverage());
            System.out.println("| tokens | PyTorch FP32 µs/layer | GB/s | Vector API BF16 µs/layer | GB/s | BF16 / FP32 time |");
            System.out.println("|---|---|---|---|---|---|");
            for (String arg : (args.length > 0 ? args[0] : "1,64").split(",")) {
                int tokens = Integer.parseInt(arg);
                float[] x = new float[tokens * in];
                for (int i = 0; i < x.length; i++) {
                    x[i] = (float) random.nextGaussian();
                }
                double torch = 0;
                double vector = 0;
                for (int round = 0; round < 3; round++) { // alternate, so both see the same machine
                    torch = Math.max(torch, 1 / perLayer(seconds / 3, layers, l -> {
                        try (NDManager step = manager.newSubManager()) {
                            NDArray xs = step.create(x, new Shape(tokens, in));
                            Layers.linear(xs, f32[l], null).toFloatArray();
                        }
                    }));
                    vector = Math.max(vector, 1 / perLayer(seconds / 3, layers, l -> {
                        try (NDManager step = manager.newSubManager()) { // the same round trip as Weight.linear
                            float[] xs = step.create(x, new Shape(tokens, in)).toFloatArray();
                            float[] y = new float[tokens * out];
                            bf16[l].multiply(xs, tokens, y);
                            step.create(y, new Shape(tokens, out)).toFloatArray();
                        }
                    }));
                }
                double torchUs = 1e6 / torch;
                double vectorUs = 1e6 / vector;
                System.out.printf("| %d | %.0f | %.1f | %.0f | %.1f | %.2f |%n", tokens, torchUs, 4.0 * out * in / torchUs / 1e3,
                        vectorUs, 2.0 * out * in / vectorUs / 1e3, vectorUs / torchUs);
            }
        }
    }

    /** Seconds per layer, cycling through the layers for about {@code seconds}. */
    private static double perLayer(double seconds, int layers, java.util.function.IntConsumer layer) {
        long deadline = System.nanoTime() + (long) (seconds * 1e9);
        long start = System.nanoTime();
        long calls = 0;
        do {
            for (int l = 0; l < layers; l++) {
                layer.accept(l);
            }
            calls += layers;
        } while (System.nanoTime() < deadline);
        return (System.nanoTime() - start) / 1e9 / calls;
    }

    private static String loadAverage() {
        try {
            return java.nio.file.Files.readString(java.nio.file.Path.of("/proc/loadavg")).substring(0, 14);
        } catch (java.io.IOException e) {
            return "?";
        }
    }
}
