package dev.gatehouse.gateway.hub;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * Parameter count and dtypes of a folder's safetensors files, from their headers alone. Reads the header
 * itself rather than through serving's {@code Safetensors}, which rejects dtypes it cannot compute with
 * (I8, I64, F8...): {@code models list} must describe the models Gatehouse cannot serve too.
 *
 * @param parameters total elements over all tensors, or -1 when the folder has no readable safetensors
 * @param dtypes     the distinct dtypes, e.g. "BF16" or "F32+I64"
 */
public record WeightsSummary(long parameters, String dtypes) {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long MAX_HEADER_BYTES = 100L << 20;

    public static WeightsSummary of(Path folder) {
        long params = 0;
        TreeSet<String> dtypes = new TreeSet<>();
        boolean any = false;
        try (Stream<Path> list = Files.list(folder)) {
            for (Path file : list.filter(p -> p.getFileName().toString().endsWith(".safetensors")).sorted().toList()) {
                JsonNode header = header(file);
                for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> e = it.next();
                    if (e.getKey().equals("__metadata__")) {
                        continue;
                    }
                    long n = 1;
                    for (JsonNode d : e.getValue().path("shape")) {
                        n *= d.asLong();
                    }
                    params += n;
                    dtypes.add(e.getValue().path("dtype").asText("?"));
                }
                any = true;
            }
        } catch (IOException e) {
            return new WeightsSummary(-1, "?");
        }
        return any ? new WeightsSummary(params, String.join("+", dtypes)) : new WeightsSummary(-1, "-");
    }

    private static JsonNode header(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file)) {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(len, 0);
            long n = len.flip().getLong();
            if (ch.size() < 8 || n <= 0 || n > MAX_HEADER_BYTES || 8 + n > ch.size()) {
                throw new IOException(file + " has no valid safetensors header");
            }
            ByteBuffer header = ByteBuffer.allocate((int) n);
            ch.read(header, 8);
            return JSON.readTree(header.array());
        }
    }
}
