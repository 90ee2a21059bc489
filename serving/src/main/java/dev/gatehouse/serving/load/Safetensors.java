package dev.gatehouse.serving.load;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One {@code .safetensors} file: an 8-byte little-endian header length, a JSON header naming each
 * tensor's dtype, shape and byte range, then the raw data. Tensors are memory-mapped one by one (a
 * single mapping cannot exceed 2 GiB, a tensor practically never does), so nothing is read into the
 * Java heap and a 10 GiB shard costs no more than its page cache.
 */
public final class Safetensors {
    private static final long MAX_HEADER_BYTES = 100L << 20;

    private final Path file;
    private final long dataStart;
    private final Map<String, TensorInfo> tensors;

    /** A tensor's place in its file. */
    public record TensorInfo(String name, DType dtype, long[] shape, long begin, long end) {
        public long elementCount() {
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            return n;
        }
    }

    /** The storage dtypes Gatehouse reads. */
    public enum DType {
        F32(4), F16(2), BF16(2);

        public final int bytes;

        DType(int bytes) {
            this.bytes = bytes;
        }
    }

    private Safetensors(Path file, long dataStart, Map<String, TensorInfo> tensors) {
        this.file = file;
        this.dataStart = dataStart;
        this.tensors = tensors;
    }

    /** Reads and checks the header: every tensor's byte range must lie inside the file and fit its shape. */
    public static Safetensors open(Path file) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) {
                throw new ModelLoadException(file + " is truncated (" + size + " bytes, no safetensors header)");
            }
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(len, 0);
            long headerLen = len.flip().getLong();
            if (headerLen <= 0 || headerLen > MAX_HEADER_BYTES || 8 + headerLen > size) {
                throw new ModelLoadException(file + " has an invalid safetensors header length " + headerLen
                        + " (file is " + size + " bytes): truncated or not a safetensors file");
            }
            ByteBuffer header = ByteBuffer.allocate((int) headerLen);
            ch.read(header, 8);
            JsonNode json;
            try {
                json = Json.MAPPER.readTree(header.array());
            } catch (IOException e) {
                throw new ModelLoadException(file + " has a malformed safetensors header: " + e.getMessage(), e);
            }
            if (json == null || !json.isObject()) {
                throw new ModelLoadException(file + " has a malformed safetensors header: not a JSON object");
            }
            long dataStart = 8 + headerLen;
            return new Safetensors(file, dataStart, parseHeader(file, json, size - dataStart));
        } catch (IOException e) {
            throw new ModelLoadException("cannot read " + file + ": " + e, e);
        }
    }

    private static Map<String, TensorInfo> parseHeader(Path file, JsonNode json, long dataBytes) {
        Map<String, TensorInfo> tensors = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = json.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getKey().equals("__metadata__")) {
                continue;
            }
            String name = e.getKey();
            JsonNode t = e.getValue();
            DType dtype;
            try {
                dtype = DType.valueOf(t.path("dtype").asText());
            } catch (IllegalArgumentException ex) {
                throw new ModelLoadException("tensor " + name + " in " + file + " has dtype "
                        + t.path("dtype").asText() + "; supported: F32, F16, BF16");
            }
            long[] shape = shape(file, name, t.path("shape"));
            long begin = t.path("data_offsets").path(0).asLong(-1);
            long end = t.path("data_offsets").path(1).asLong(-1);
            TensorInfo info = new TensorInfo(name, dtype, shape, begin, end);
            if (begin < 0 || end < begin || end > dataBytes || end - begin != byteCount(shape, dtype)) {
                throw new ModelLoadException("tensor " + name + " in " + file + " claims bytes [" + begin + ", " + end
                        + ") for shape " + Arrays.toString(shape) + " " + dtype + " but the file has "
                        + dataBytes + " data bytes: the header lies or the file is truncated");
            }
            // one ByteBuffer (what map() and DJL take) holds at most 2 GiB; better said now than mid-load
            if (end - begin > Integer.MAX_VALUE) {
                throw new ModelLoadException("tensor " + name + " in " + file + " is " + (end - begin)
                        + " bytes; tensors over 2 GiB are not supported");
            }
            tensors.put(name, info);
        }
        return tensors;
    }

    /** Dimensions must be non-negative integers, or a lying header could pass the size check (-2 x -3 = 6). */
    private static long[] shape(Path file, String name, JsonNode node) {
        boolean valid = node.isArray();
        long[] shape = new long[valid ? node.size() : 0];
        for (int i = 0; valid && i < shape.length; i++) {
            JsonNode d = node.get(i);
            valid = d.isIntegralNumber() && d.canConvertToLong() && d.asLong() >= 0;
            shape[i] = d.asLong();
        }
        if (!valid) {
            throw new ModelLoadException("tensor " + name + " in " + file + " has an invalid shape " + node);
        }
        return shape;
    }

    /** -1 when the size overflows a long (so it matches no byte range): 2^32 x 2^32 would wrap to 0. */
    private static long byteCount(long[] shape, DType dtype) {
        try {
            long n = dtype.bytes;
            for (long d : shape) {
                n = Math.multiplyExact(n, d);
            }
            return n;
        } catch (ArithmeticException e) {
            return -1;
        }
    }

    public Path file() {
        return file;
    }

    public Map<String, TensorInfo> tensors() {
        return tensors;
    }

    /** Maps one tensor's bytes read-only, little-endian. */
    public ByteBuffer map(TensorInfo t) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return ch.map(FileChannel.MapMode.READ_ONLY, dataStart + t.begin(), t.end() - t.begin())
                    .order(ByteOrder.LITTLE_ENDIAN);
        } catch (IOException e) {
            throw new ModelLoadException("cannot map tensor " + t.name() + " of " + file + ": " + e, e);
        }
    }
}
