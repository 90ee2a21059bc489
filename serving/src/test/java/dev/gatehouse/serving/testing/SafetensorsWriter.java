package dev.gatehouse.serving.testing;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Minimal safetensors writer for tests: an 8-byte little-endian header length, a JSON header
 * ({@code __metadata__} first, then one entry per tensor with dtype, shape and data_offsets
 * relative to the start of the data section), padded with spaces to a multiple of 8, then the raw
 * little-endian tensor data in header order.
 */
public final class SafetensorsWriter {

    /** One tensor. {@code values} must already be representable in {@code dtype} (see {@link TensorDtype#round}). */
    public record Tensor(String name, TensorDtype dtype, long[] shape, float[] values) {
        public Tensor {
            long n = 1;
            for (long d : shape) n *= d;
            if (n != values.length) {
                throw new IllegalArgumentException(name + ": shape " + Arrays.toString(shape) + " needs " + n + " values, got " + values.length);
            }
        }

        public long byteSize() {
            return (long) values.length * dtype.bytes();
        }
    }

    private SafetensorsWriter() {}

    /**
     * Writes {@code tensors} (in the given order) to {@code file}.
     *
     * @return the number of bytes of tensor data (what {@code metadata.total_size} of an index counts)
     */
    public static long write(Path file, List<Tensor> tensors, Map<String, String> metadata) throws IOException {
        Map<String, Object> header = new LinkedHashMap<>();
        if (metadata != null && !metadata.isEmpty()) header.put("__metadata__", new LinkedHashMap<>(metadata));
        long offset = 0;
        for (Tensor t : tensors) {
            Map<String, Object> info = new LinkedHashMap<>();
            info.put("dtype", t.dtype().safetensorsName());
            info.put("shape", Arrays.stream(t.shape()).boxed().toList());
            info.put("data_offsets", List.of(offset, offset + t.byteSize()));
            if (header.put(t.name(), info) != null) throw new IllegalArgumentException("duplicate tensor " + t.name());
            offset += t.byteSize();
        }
        byte[] json = Json.write(header, false, false).getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        byte[] headerBytes = Arrays.copyOf(json, padded);
        Arrays.fill(headerBytes, json.length, padded, (byte) ' ');

        Files.createDirectories(file.toAbsolutePath().getParent());
        try (OutputStream out = Files.newOutputStream(file)) {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded);
            out.write(len.array());
            out.write(headerBytes);
            for (Tensor t : tensors) {
                ByteBuffer buf = ByteBuffer.allocate(Math.toIntExact(t.byteSize())).order(ByteOrder.LITTLE_ENDIAN);
                for (float v : t.values()) t.dtype().put(buf, v);
                out.write(buf.array());
            }
        }
        return offset;
    }
}
