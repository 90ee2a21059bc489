package dev.gatehouse.serving.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.gatehouse.serving.arch.Layers;
import dev.gatehouse.serving.cpu.CpuMatrix;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.function.IntConsumer;
import java.util.stream.IntStream;

/**
 * The one-token matrix-vector product against the memory-bandwidth ceiling, in one run: a model's
 * worth of one projection's weights (default 24 layers of Qwen2.5-0.5B's gate+up, [9728 x 896]),
 * memory-mapped from files in each stored type, cycled so they come from memory, not the caches.
 *
 * <p>The ceiling is measured two ways on the same bytes: every core streaming the mapped weights
 * through L1 with bulk copies (all a Java kernel must do; nothing is computed), and PyTorch summing
 * the same weights held as an FP32 tensor. Rows: PyTorch's FP32 product, then {@link CpuMatrix} on F32,
 * BF16 and F16 mappings, each in GB/s of weights streamed and as a % of the Java stream over the same
 * mapping, then the same per CPU-second the process used (on a loaded machine the wall-clock rates
 * measure the share of the cores the process got; CPU time measures what each way costs). Prints one
 * markdown table.
 *
 * <p>Knobs: -Dbench.shape=OUTxIN, -Dbench.layers (24), -Dbench.seconds (6 per row, best of 5 interleaved rounds).
 */
public final class KernelBench {
    public static void main(String[] args) throws IOException {
        String[] dims = System.getProperty("bench.shape", "9728x896").split("x");
        int out = Integer.parseInt(dims[0]);
        int in = Integer.parseInt(dims[1]);
        int layers = Integer.getInteger("bench.layers", 24);
        double seconds = Double.parseDouble(System.getProperty("bench.seconds", "6"));
        Path dir = Files.createTempDirectory(Path.of(System.getProperty("java.io.tmpdir")), "gatehouse-kernel-bench");
        Random random = new Random(1);
        float[] x = new float[in];
        for (int i = 0; i < in; i++) {
            x[i] = (float) random.nextGaussian();
        }
        System.out.printf("%d cores, %d layers of [%d x %d], load average %s%n%n", Runtime.getRuntime().availableProcessors(),
                layers, out, in, loadAverage());
        System.out.println("| weights | path | GB per pass | GB/s | % of the stream ceiling | GB per CPU-second | % of the stream's |");
        System.out.println("|---|---|---|---|---|---|---|");
        try (NDManager manager = NDManager.newBaseManager()) {
            List<Row> rows = new ArrayList<>();
            float[] y = new float[out];
            for (CpuMatrix.Format format : CpuMatrix.Format.values()) {
                ByteBuffer[] mapped = new ByteBuffer[layers];
                CpuMatrix[] matrices = new CpuMatrix[layers];
                for (int l = 0; l < layers; l++) {
                    mapped[l] = writeAndMap(dir.resolve(format + "-" + l), format, out, in, random);
                    matrices[l] = new CpuMatrix(format, in, List.of(mapped[l]));
                }
                double gb = (double) layers * out * in * format.bytes() / 1e9;
                Row ceiling = new Row(format, "Java: stream of the mapped weights, all cores (the ceiling)", gb, null,
                        l -> stream(mapped[l]));
                rows.add(ceiling);
                if (format == CpuMatrix.Format.F32) {
                    NDArray[] tensors = new NDArray[layers];
                    for (int l = 0; l < layers; l++) {
                        tensors[l] = manager.create(mapped[l].asFloatBuffer(), new Shape(out, in));
                    }
                    rows.add(new Row(format, "PyTorch: sum of the weights (a read-only stream)", gb, ceiling, l -> {
                        try (NDManager step = manager.newSubManager()) {
                            NDArray sum = tensors[l].sum();
                            sum.attach(step);
                            sum.getFloat();
                        }
                    }));
                    rows.add(new Row(format, "PyTorch: matrix-vector product", gb, ceiling, l -> {
                        try (NDManager step = manager.newSubManager()) { // as a model step: upload x, read y
                            Layers.linear(step.create(x, new Shape(1, in)), tensors[l], null).toFloatArray();
                        }
                    }));
                }
                rows.add(new Row(format, "Java: CpuMatrix matrix-vector product", gb, ceiling, l -> matrices[l].multiply(x, 1, y)));
            }
            int rounds = 5;
            for (int round = 0; round < rounds; round++) { // interleaved, so every row sees the same machine
                for (Row row : rows) {
                    double[] wallAndCpu = perPass(seconds / rounds, layers, row.pass);
                    row.best = Math.max(row.best, row.gb / wallAndCpu[0]);
                    row.bestPerCpu = Math.max(row.bestPerCpu, row.gb / wallAndCpu[1]);
                }
            }
            for (Row row : rows) {
                Row ceiling = row.ceiling == null ? row : row.ceiling;
                System.out.printf("| %s | %s | %.2f | %.1f | %.0f %% | %.1f | %.0f %% |%n", row.format, row.label, row.gb,
                        row.best, 100 * row.best / ceiling.best, row.bestPerCpu, 100 * row.bestPerCpu / ceiling.bestPerCpu);
            }
        } finally {
            try (var files = Files.list(dir)) {
                for (Path file : files.toList()) {
                    Files.delete(file);
                }
            }
            Files.delete(dir);
        }
    }

    /** One line of the table: a pass over every layer, its best GB/s, and the ceiling it is a share of. */
    private static final class Row {
        final CpuMatrix.Format format;
        final String label;
        final double gb;
        final Row ceiling;
        final IntConsumer pass;
        double best;
        double bestPerCpu;

        Row(CpuMatrix.Format format, String label, double gb, Row ceiling, IntConsumer pass) {
            this.format = format;
            this.label = label;
            this.gb = gb;
            this.ceiling = ceiling;
            this.pass = pass;
        }
    }

    /** A [rows, cols] matrix of random values in {@code format}, written to {@code file} and mapped back. */
    private static ByteBuffer writeAndMap(Path file, CpuMatrix.Format format, int rows, int cols, Random random) throws IOException {
        ByteBuffer data = CpuMatrix.allocate(format, rows, cols);
        for (int i = 0; i < rows * cols; i++) {
            float v = (float) random.nextGaussian() * 0.05f;
            switch (format) {
                case F32 -> data.putFloat(v);
                case BF16 -> data.putShort((short) (Float.floatToIntBits(v) >>> 16));
                case F16 -> data.putShort(Float.floatToFloat16(v));
            }
        }
        data.flip();
        try (FileChannel channel = new RandomAccessFile(file.toFile(), "rw").getChannel()) {
            channel.write(data);
            return channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size()).order(ByteOrder.LITTLE_ENDIAN);
        }
    }

    private static final DoubleAdder SINK = new DoubleAdder();

    /** Every core copies its share of {@code data} into L1 a chunk at a time: the memory traffic of a kernel, nothing else. */
    private static void stream(ByteBuffer data) {
        int cores = Runtime.getRuntime().availableProcessors();
        long chunk = 16 * 1024;
        long chunks = (data.capacity() + chunk - 1) / chunk;
        IntStream.range(0, cores).parallel().forEach(core -> {
            byte[] buffer = new byte[(int) chunk];
            long sum = 0;
            for (long c = chunks * core / cores; c < chunks * (core + 1) / cores; c++) {
                int at = (int) (c * chunk);
                int length = (int) Math.min(chunk, data.capacity() - at);
                data.get(at, buffer, 0, length);
                sum += buffer[length - 1];
            }
            SINK.add(sum);
        });
    }

    /**
     * Seconds per pass over all layers, cycling through them for about {@code seconds}: [0] wall-clock,
     * [1] CPU time of the whole process (all its threads), which another process's load does not inflate.
     */
    private static double[] perPass(double seconds, int layers, IntConsumer layer) {
        var os = (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        long deadline = System.nanoTime() + (long) (seconds * 1e9);
        long start = System.nanoTime();
        long cpuStart = os.getProcessCpuTime();
        long passes = 0;
        do {
            for (int l = 0; l < layers; l++) {
                layer.accept(l);
            }
            passes++;
        } while (System.nanoTime() < deadline);
        return new double[] {(System.nanoTime() - start) / 1e9 / passes, (os.getProcessCpuTime() - cpuStart) / 1e9 / passes};
    }

    private static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).substring(0, 14);
        } catch (IOException e) {
            return "?";
        }
    }
}
