package dev.gatehouse.serving.cpu;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

/**
 * What handing a product to {@link CpuPool} costs, and what it buys, in one run:
 * <ol>
 *   <li>a call that does no work, so the cost is the pool's alone: back to back, and with the caller
 *       busy for a gap between calls as a decode step is between its products (norms, attention), long
 *       enough for an idle helper to park;
 *   <li>the one-token products of a SmolLM2-135M-shaped BF16 model (30 layers of q/k/v [960 x 576],
 *       o [576 x 576], gate/up [3072 x 576] and down [576 x 1536], 0.2 GB held in memory), in tokens/s of
 *       the products alone, the same gaps between them.
 * </ol>
 * Rows interleaved over rounds, best of each. Knobs: -Dbench.rounds (5), -Dbench.seconds (1 per row
 * and round). Prints one markdown table.
 */
public final class PoolBench {
    private static final int[] GAPS_MICROS = {0, 20, 100};
    private static final int LAYERS = 30;
    private static final int HIDDEN = 576;

    public static void main(String[] args) throws Exception {
        int rounds = Integer.getInteger("bench.rounds", 5);
        double seconds = Double.parseDouble(System.getProperty("bench.seconds", "1"));
        System.out.printf("%d cores, load average %s%n%n", CpuPool.cores(), Files.readString(Path.of("/proc/loadavg")).substring(0, 14));
        CpuMatrix[][] layers = smolLm2Layers();
        float[] x = new float[1536];
        float[] y = new float[3072];
        Random random = new Random(2);
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) random.nextGaussian();
        }
        int gaps = GAPS_MICROS.length;
        double[] emptyCall = new double[gaps];
        double[] tokensPerSecond = new double[gaps];
        java.util.Arrays.fill(emptyCall, Double.MAX_VALUE);
        for (int round = 0; round < rounds; round++) {
            for (int g = 0; g < gaps; g++) {
                long gap = GAPS_MICROS[g] * 1000L;
                emptyCall[g] = Math.min(emptyCall[g], timed(seconds, 1000, () -> {
                    CpuPool.forEach(CpuPool.cores(), task -> { });
                    busy(gap);
                }) - gap / 1e3);
                double perToken = timed(seconds, 1, () -> {
                    for (CpuMatrix[] layer : layers) {
                        for (CpuMatrix product : layer) {
                            product.multiply(x, 1, y);
                            busy(gap / 4);
                        }
                    }
                });
                tokensPerSecond[g] = Math.max(tokensPerSecond[g], 1e6 / perToken);
            }
        }
        System.out.println("| caller busy between calls | empty call, µs | SmolLM2-135M BF16 products, tokens/s | of which the gaps, ms a token |");
        System.out.println("|---|---|---|---|");
        for (int g = 0; g < gaps; g++) {
            System.out.printf("| %d µs | %.1f | %.1f | %.1f |%n", GAPS_MICROS[g], emptyCall[g], tokensPerSecond[g],
                    GAPS_MICROS[g] * LAYERS / 1e3);
        }
    }

    /** Each layer's four one-token products, random BF16 weights in memory. */
    private static CpuMatrix[][] smolLm2Layers() {
        Random random = new Random(1);
        int[][] shapes = {{960, HIDDEN}, {HIDDEN, HIDDEN}, {3072, HIDDEN}, {HIDDEN, 1536}};
        CpuMatrix[][] layers = new CpuMatrix[LAYERS][shapes.length];
        for (int l = 0; l < LAYERS; l++) {
            for (int p = 0; p < shapes.length; p++) {
                ByteBuffer data = CpuMatrix.allocate(CpuMatrix.Format.BF16, shapes[p][0], shapes[p][1]);
                for (int i = 0; i < shapes[p][0] * shapes[p][1]; i++) {
                    data.putShort(2 * i, (short) (Float.floatToIntBits((float) random.nextGaussian() * 0.05f) >>> 16));
                }
                layers[l][p] = new CpuMatrix(CpuMatrix.Format.BF16, shapes[p][1], List.of(data));
            }
        }
        return layers;
    }

    /** Microseconds per run of {@code body}, run in batches of {@code batch} for about {@code seconds}. */
    private static double timed(double seconds, int batch, Runnable body) {
        long start = System.nanoTime();
        long deadline = start + (long) (seconds * 1e9);
        long runs = 0;
        do {
            for (int i = 0; i < batch; i++) {
                body.run();
            }
            runs += batch;
        } while (System.nanoTime() < deadline);
        return (System.nanoTime() - start) / 1e3 / runs;
    }

    /** Keeps the calling thread busy for {@code nanos}, as a step's small ops between two products would. */
    private static void busy(long nanos) {
        long end = System.nanoTime() + nanos;
        while (System.nanoTime() < end) {
            Thread.onSpinWait();
        }
    }
}
