package dev.gatehouse.serving.load;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gatehouse.serving.testing.FolderEdits;
import dev.gatehouse.serving.testing.SafetensorsWriter;
import dev.gatehouse.serving.testing.TensorDtype;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** A damaged or lying safetensors file is refused at open, with a message naming the file (and the tensor). */
class SafetensorsTest {
    @TempDir
    Path tmp;

    Path file;
    long dataStart;

    /** Two tensors: a [2, 3] F32 (24 bytes at [0, 24)), then b [4] BF16 (8 bytes at [24, 32)). */
    @BeforeEach
    void writeFile() throws IOException {
        file = tmp.resolve("model.safetensors");
        SafetensorsWriter.write(file, List.of(
                new SafetensorsWriter.Tensor("a", TensorDtype.F32, new long[] {2, 3}, new float[] {1, 2, 3, 4, 5, 6}),
                new SafetensorsWriter.Tensor("b", TensorDtype.BF16, new long[] {4}, new float[] {0.5f, -1, 2, 0})),
                Map.of("format", "pt"));
        dataStart = 8 + FolderEdits.headerLength(file);
    }

    @Test
    void intactFileOpens() {
        Safetensors st = Safetensors.open(file);
        assertEquals(List.of("a", "b"), List.copyOf(st.tensors().keySet()));
        Safetensors.TensorInfo b = st.tensors().get("b");
        assertEquals(Safetensors.DType.BF16, b.dtype());
        assertArrayEquals(new long[] {4}, b.shape());
        assertEquals(24, b.begin());
        assertEquals(32, b.end());
        ByteBuffer a = st.map(st.tensors().get("a"));
        assertEquals(24, a.remaining());
        assertEquals(6f, a.getFloat(20));
    }

    @Test
    void emptyFile() throws IOException {
        FolderEdits.truncate(file, 0);
        assertRefused("truncated");
    }

    @Test
    void cutInsideTheLengthField() throws IOException {
        FolderEdits.truncate(file, 5);
        assertRefused("truncated");
    }

    @Test
    void cutInsideTheHeader() throws IOException {
        FolderEdits.truncate(file, dataStart - 10);
        assertRefused("truncated");
    }

    @Test
    void cutInsideTheData() throws IOException {
        FolderEdits.truncate(file, dataStart + 28); // b's last 4 bytes are gone
        ModelLoadException e = assertRefused("truncated");
        assertTrue(e.getMessage().contains("tensor b "), e.getMessage());
    }

    @Test
    void headerLengthOfGarbage() throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(-5).array());
        }
        assertRefused("header length");
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(1L << 60).array());
        }
        assertRefused("header length");
    }

    @Test
    void headerThatIsNotJson() throws IOException {
        FolderEdits.writeRaw(file, "{\"a\": {\"dtype\": \"F32\", \"shape\": [2, 3], ", new byte[24]);
        assertRefused("malformed");
    }

    @ParameterizedTest
    @ValueSource(strings = {"[1, 2, 3]", "\"a string\"", "   ", "null"})
    void headerThatIsNotAnObject(String header) throws IOException {
        FolderEdits.writeRaw(file, header, new byte[24]);
        assertRefused("header");
    }

    @Test
    void tensorEntryThatIsNotAnObject() throws IOException {
        FolderEdits.editHeader(file, h -> h.put("b", 7));
        ModelLoadException e = assertRefused("tensor b ");
        assertTrue(e.getMessage().contains("dtype"), e.getMessage());
    }

    @Test
    void dataOffsetsPastTheEnd() throws IOException {
        FolderEdits.editHeader(file, h -> h.withObject("b").putArray("data_offsets").add(24).add(40));
        ModelLoadException e = assertRefused("tensor b ");
        assertTrue(e.getMessage().contains("[24, 40)"), e.getMessage());
    }

    @Test
    void dataOffsetsMissing() throws IOException {
        FolderEdits.editHeader(file, h -> h.withObject("a").remove("data_offsets"));
        assertRefused("tensor a ");
    }

    @Test
    void dataOffsetsBackwards() throws IOException {
        FolderEdits.editHeader(file, h -> h.withObject("a").putArray("data_offsets").add(24).add(0));
        assertRefused("tensor a ");
    }

    @Test
    void shapeThatDoesNotMatchTheByteRange() throws IOException {
        // [2, 4] F32 needs 32 bytes; the header still gives a its 24
        FolderEdits.editHeader(file, h -> h.withObject("a").putArray("shape").add(2).add(4));
        ModelLoadException e = assertRefused("tensor a ");
        assertTrue(e.getMessage().contains("[2, 4]"), e.getMessage());
    }

    @Test
    void dtypeThatDoesNotMatchTheByteRange() throws IOException {
        // the same 24 bytes read as F16 would be 12 elements, not 6
        FolderEdits.editHeader(file, h -> h.withObject("a").put("dtype", "F16"));
        assertRefused("tensor a ");
    }

    @Test
    void negativeDimension() throws IOException {
        FolderEdits.editHeader(file, h -> h.withObject("a").putArray("shape").add(-2).add(-3));
        assertRefused("tensor a ");
    }

    @ParameterizedTest
    @ValueSource(strings = {"\"2x3\"", "[2, 3.5]", "[2, \"3\"]", "{\"rows\": 2}", "null"})
    void shapeThatIsNotAListOfSizes(String shape) throws IOException {
        JsonNode replacement = new ObjectMapper().readTree(shape);
        FolderEdits.editHeader(file, h -> h.withObject("a").set("shape", replacement));
        ModelLoadException e = assertRefused("tensor a ");
        assertTrue(e.getMessage().contains("shape"), e.getMessage());
    }

    @Test
    void missingShape() throws IOException {
        FolderEdits.editHeader(file, h -> h.withObject("a").remove("shape"));
        assertRefused("tensor a ");
    }

    @Test
    void scalarTensor() throws IOException {
        FolderEdits.writeRaw(file, "{\"s\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]}}", new byte[4]);
        assertArrayEquals(new long[0], Safetensors.open(file).tensors().get("s").shape());
    }

    /** 2^32 x 2^32 elements overflow a long to 0, which would match an empty byte range. */
    @Test
    void shapeWhoseSizeOverflows() throws IOException {
        FolderEdits.editHeader(file, h -> {
            h.withObject("a").putArray("shape").add(1L << 32).add(1L << 32);
            h.withObject("a").putArray("data_offsets").add(0).add(0);
        });
        assertRefused("tensor a ");
    }

    @ParameterizedTest
    @ValueSource(strings = {"I8", "F64", "U8", "F8_E4M3", "bf16", ""})
    void unsupportedDtype(String dtype) throws IOException {
        FolderEdits.editHeader(file, h -> h.withObject("b").put("dtype", dtype));
        ModelLoadException e = assertRefused("tensor b ");
        assertTrue(e.getMessage().contains("dtype " + dtype), e.getMessage());
        assertTrue(e.getMessage().contains("F32, F16, BF16"), e.getMessage());
    }

    /**
     * A single tensor over 2 GiB cannot be memory-mapped as one buffer: refused at open with a clear
     * message rather than an IllegalArgumentException from FileChannel.map halfway through loading.
     * The file is sparse, so it costs no disk.
     */
    @Test
    void tensorOverTwoGibibytes() throws IOException {
        long bytes = 600_000_000L * 4;
        FolderEdits.writeRaw(file, "{\"big\":{\"dtype\":\"F32\",\"shape\":[600000000],\"data_offsets\":[0," + bytes + "]}}",
                new byte[0]);
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(f.length() + bytes);
        }
        ModelLoadException e = assertRefused("tensor big ");
        assertTrue(e.getMessage().contains("2 GiB"), e.getMessage());
    }

    @Test
    void missingFile() throws IOException {
        Files.delete(file);
        assertRefused("");
    }

    private ModelLoadException assertRefused(String expectedInMessage) {
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> Safetensors.open(file));
        assertTrue(e.getMessage().contains(file.toString()), "message names the file: " + e.getMessage());
        assertTrue(e.getMessage().contains(expectedInMessage), "message says '" + expectedInMessage + "': " + e.getMessage());
        return e;
    }
}
