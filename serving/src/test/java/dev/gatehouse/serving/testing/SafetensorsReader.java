package dev.gatehouse.serving.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Tiny, strict safetensors reader for tests (F32/F16/BF16 only). It checks the layout rules
 * (header length, JSON header, contiguous non-overlapping data offsets covering the whole data
 * section) and widens every value to float32.
 */
public final class SafetensorsReader {
    private static final ObjectMapper OM = new ObjectMapper();

    /** One header entry plus its widened values. */
    public record Entry(String name, TensorDtype dtype, long[] shape, long begin, long end, float[] values) {}

    /** A parsed file: the raw header JSON, its metadata, the header length field, and the tensors in header order. */
    public record File(long headerLength, String headerJson, Map<String, String> metadata, Map<String, Entry> tensors) {}

    private SafetensorsReader() {}

    public static File read(Path file) throws IOException {
        byte[] all = Files.readAllBytes(file);
        if (all.length < 8) throw new IOException(file + ": too short");
        ByteBuffer bb = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
        long n = bb.getLong();
        if (n < 2 || 8 + n > all.length) throw new IOException(file + ": bad header length " + n);
        String json = new String(all, 8, (int) n, StandardCharsets.UTF_8);
        JsonNode root = OM.readTree(json);
        Map<String, String> meta = new LinkedHashMap<>();
        Map<String, Entry> tensors = new LinkedHashMap<>();
        long dataStart = 8 + n;
        long dataLen = all.length - dataStart;
        long[] covered = new long[] { 0 };
        Iterator<Map.Entry<String, JsonNode>> it = root.fields();
        java.util.TreeMap<Long, Long> ranges = new java.util.TreeMap<>();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getKey().equals("__metadata__")) {
                e.getValue().fields().forEachRemaining(m -> {
                    if (!m.getValue().isTextual()) throw new IllegalStateException("__metadata__ values must be strings");
                    meta.put(m.getKey(), m.getValue().textValue());
                });
                continue;
            }
            JsonNode info = e.getValue();
            TensorDtype dt = TensorDtype.fromSafetensorsName(info.get("dtype").textValue());
            JsonNode sh = info.get("shape");
            long[] shape = new long[sh.size()];
            long count = 1;
            for (int i = 0; i < shape.length; i++) {
                shape[i] = sh.get(i).longValue();
                count *= shape[i];
            }
            long begin = info.get("data_offsets").get(0).longValue();
            long end = info.get("data_offsets").get(1).longValue();
            if (end - begin != count * dt.bytes()) throw new IOException(e.getKey() + ": data_offsets do not match shape and dtype");
            if (begin < 0 || end > dataLen) throw new IOException(e.getKey() + ": data_offsets outside the data section");
            if (ranges.put(begin, end) != null) throw new IOException(e.getKey() + ": overlapping tensors");
            ByteBuffer d = ByteBuffer.wrap(all, (int) (dataStart + begin), (int) (end - begin)).order(ByteOrder.LITTLE_ENDIAN);
            float[] v = new float[(int) count];
            for (int i = 0; i < v.length; i++) v[i] = dt.get(d);
            tensors.put(e.getKey(), new Entry(e.getKey(), dt, shape, begin, end, v));
        }
        for (Map.Entry<Long, Long> r : ranges.entrySet()) {
            if (r.getKey() != covered[0]) throw new IOException(file + ": gap or overlap in data at " + r.getKey());
            covered[0] = r.getValue();
        }
        if (covered[0] != dataLen) throw new IOException(file + ": data section has " + dataLen + " bytes, tensors cover " + covered[0]);
        return new File(n, json, meta, tensors);
    }

    /** Parses only the header of {@code file}: tensor name to safetensors dtype name (metadata excluded). */
    public static Map<String, String> readDtypes(Path file) throws IOException {
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(file)) {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(len, 0);
            long n = len.flip().getLong();
            ByteBuffer h = ByteBuffer.allocate(Math.toIntExact(n));
            ch.read(h, 8);
            JsonNode root = OM.readTree(new String(h.array(), StandardCharsets.UTF_8));
            Map<String, String> out = new LinkedHashMap<>();
            root.fields().forEachRemaining(e -> {
                if (!e.getKey().equals("__metadata__")) out.put(e.getKey(), e.getValue().get("dtype").textValue());
            });
            return out;
        }
    }

    /**
     * Reads every tensor of a model folder: {@code model.safetensors}, or the files named by
     * {@code model.safetensors.index.json} (checking that every indexed tensor is in the file the
     * index names and that every tensor of those files is indexed).
     */
    public static Map<String, Entry> readFolder(Path dir) throws IOException {
        Path index = dir.resolve("model.safetensors.index.json");
        Map<String, Entry> out = new LinkedHashMap<>();
        if (!Files.exists(index)) {
            out.putAll(read(dir.resolve("model.safetensors")).tensors());
            return out;
        }
        JsonNode weightMap = OM.readTree(index.toFile()).get("weight_map");
        Map<String, File> files = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = weightMap.fields(); it.hasNext();) {
            Map.Entry<String, JsonNode> e = it.next();
            String fileName = e.getValue().textValue();
            File f = files.get(fileName);
            if (f == null) {
                f = read(dir.resolve(fileName));
                files.put(fileName, f);
            }
            Entry t = f.tensors().get(e.getKey());
            if (t == null) throw new IOException("index maps " + e.getKey() + " to " + fileName + " which does not contain it");
            out.put(e.getKey(), t);
        }
        for (Map.Entry<String, File> f : files.entrySet()) {
            for (String name : f.getValue().tensors().keySet()) {
                if (!f.getKey().equals(weightMap.path(name).textValue())) throw new IOException(name + " in " + f.getKey() + " is not indexed there");
            }
        }
        return out;
    }
}
