package dev.gatehouse.serving.testing;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.function.Consumer;

/**
 * Damages a model folder written by {@link TestModelFolder} the way users' folders get damaged:
 * hand-edited JSON, interrupted downloads, a safetensors header that does not match its data.
 */
public final class FolderEdits {
    private static final ObjectMapper OM = new ObjectMapper();

    private FolderEdits() {}

    /** Rewrites a JSON object file after {@code edit} has changed it. */
    public static void editJson(Path file, Consumer<ObjectNode> edit) throws IOException {
        ObjectNode root = (ObjectNode) OM.readTree(file.toFile());
        edit.accept(root);
        Files.writeString(file, OM.writerWithDefaultPrettyPrinter().writeValueAsString(root), StandardCharsets.UTF_8);
    }

    /** The 8-byte length field of a safetensors file: the data section starts at {@code 8 + headerLength}. */
    public static long headerLength(Path safetensors) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(safetensors.toFile(), "r")) {
            byte[] len = new byte[8];
            f.readFully(len);
            return ByteBuffer.wrap(len).order(ByteOrder.LITTLE_ENDIAN).getLong();
        }
    }

    /** Cuts the file to {@code size} bytes, like an interrupted download. */
    public static void truncate(Path file, long size) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(size);
        }
    }

    /**
     * Replaces a safetensors header with {@code edit}'s version of it, keeping the data bytes as they
     * are (so the header can be made to lie about them).
     */
    public static void editHeader(Path safetensors, Consumer<ObjectNode> edit) throws IOException {
        byte[] all = Files.readAllBytes(safetensors);
        int n = Math.toIntExact(headerLength(safetensors));
        ObjectNode header = (ObjectNode) OM.readTree(new String(all, 8, n, StandardCharsets.UTF_8));
        edit.accept(header);
        writeRaw(safetensors, OM.writeValueAsString(header), Arrays.copyOfRange(all, 8 + n, all.length));
    }

    /** Writes a safetensors file from a header text (padded with spaces to a multiple of 8) and raw data. */
    public static void writeRaw(Path file, String headerJson, byte[] data) throws IOException {
        byte[] json = headerJson.getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        byte[] header = Arrays.copyOf(json, padded);
        Arrays.fill(header, json.length, padded, (byte) ' ');
        ByteBuffer out = ByteBuffer.allocate(8 + padded + data.length).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(padded).put(header).put(data);
        Files.write(file, out.array());
    }
}
