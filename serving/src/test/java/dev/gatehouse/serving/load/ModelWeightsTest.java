package dev.gatehouse.serving.load;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.gatehouse.serving.testing.FolderEdits;
import dev.gatehouse.serving.testing.SafetensorsWriter;
import dev.gatehouse.serving.testing.TensorDtype;
import dev.gatehouse.serving.testing.TestModelFolder;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

class ModelWeightsTest {
    @TempDir
    Path tmp;

    NDManager manager;

    @BeforeEach
    void openManager() {
        manager = NDManager.newBaseManager(Device.cpu());
    }

    @AfterEach
    void closeManager() {
        manager.close();
    }

    // ------------------------------------------------------------------ 16-bit loading

    static Stream<Arguments> checkpoints() {
        return Stream.of(
                Arguments.of("llama-bf16", TestModelFolder.llama().dtype(TensorDtype.BF16)),
                Arguments.of("llama-bf16-sharded", TestModelFolder.llama().dtype(TensorDtype.BF16).shards(3)),
                Arguments.of("llama-f16", TestModelFolder.llama().dtype(TensorDtype.F16)),
                Arguments.of("llama-f16-sharded", TestModelFolder.llama().dtype(TensorDtype.F16).shards(2)),
                Arguments.of("qwen2-bf16-biases", TestModelFolder.qwen2().dtype(TensorDtype.BF16)),
                Arguments.of("qwen3-f16-sharded", TestModelFolder.qwen3().dtype(TensorDtype.F16).shards(2)),
                Arguments.of("gpt2-f16-4d-mask", TestModelFolder.gpt2().dtype(TensorDtype.F16)),
                Arguments.of("gpt2-bf16-sharded", TestModelFolder.gpt2().gpt2Prefixed(true).dtype(TensorDtype.BF16).shards(2)),
                Arguments.of("llama-f32", TestModelFolder.llama()),
                Arguments.of("llama-f32-sharded", TestModelFolder.llama().shards(2)));
    }

    /** On CPU every tensor is widened to FP32; the values must be exactly the stored ones, bit for bit. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("checkpoints")
    void everyTensorLoadsExactly(String label, TestModelFolder folder) throws IOException {
        ModelWeights weights = ModelWeights.open(folder.write(tmp.resolve(label)));
        assertLoadsExactly(folder, weights);
    }

    /**
     * A token embedding over ModelWeights' 32 MiB chunk once widened (140000 x 64 x 4 bytes = 35.8 MB):
     * widened in two chunks of rows, the second a partial one.
     */
    @ParameterizedTest
    @EnumSource(value = TensorDtype.class, names = {"BF16", "F16"})
    void tensorLargerThanOneChunkLoadsExactly(TensorDtype dtype) throws IOException {
        TestModelFolder folder = TestModelFolder.llama().vocab(140_000).hidden(64).intermediate(32).layers(1)
                .tied(true).dtype(dtype);
        assertTrue(folder.expectedShapes().get("model.embed_tokens.weight")[0] * 64 * 4 > 32 << 20,
                "the embedding must need more than one chunk");
        ModelWeights weights = ModelWeights.open(folder.write(tmp.resolve("big")));
        assertLoadsExactly(folder, weights);
    }

    /** Every 16-bit pattern (zeros, subnormals, infinities, NaNs) widens to the exact FP32 value. */
    @ParameterizedTest
    @EnumSource(value = TensorDtype.class, names = {"BF16", "F16"})
    void everyBitPatternWidensExactly(TensorDtype dtype) throws IOException {
        ByteBuffer data = ByteBuffer.allocate(2 * 65536).order(ByteOrder.LITTLE_ENDIAN);
        for (int bits = 0; bits < 65536; bits++) {
            data.putShort((short) bits);
        }
        Path dir = Files.createDirectories(tmp.resolve("patterns"));
        FolderEdits.writeRaw(dir.resolve("model.safetensors"), "{\"all\":{\"dtype\":\"" + dtype.safetensorsName()
                + "\",\"shape\":[256,256],\"data_offsets\":[0,131072]}}", data.array());
        try (NDArray a = ModelWeights.open(dir).load("all", manager, DataType.FLOAT32, 256, 256)) {
            float[] got = a.toFloatArray();
            for (int i = 0; i < 65536; i++) {
                int bits = i;
                float want = dtype == TensorDtype.BF16 ? TensorDtype.bf16BitsToFloat((short) bits) : halfToFloat(bits);
                assertEquals(quieted(want), quieted(got[bits]), () -> dtype + " bits " + Integer.toHexString(bits));
            }
        }
    }

    /**
     * The raw bits, with a NaN's quiet bit set: IEEE 754 turns a signalling NaN into a
     * quiet one on conversion, and the JDK's conversion does so here (F16 0x7c01 loads as FP32
     * 0x7fc02000) though the JDK may not everywhere. Sign and payload must still match.
     */
    private static int quieted(float f) {
        int bits = Float.floatToRawIntBits(f);
        return Float.isNaN(f) ? bits | 0x0040_0000 : bits;
    }

    /**
     * IEEE 754 binary16 by its definition, independent of the JDK's conversion the loader uses:
     * (-1)^sign * 2^(exponent - 15) * (1 + mantissa / 1024), subnormals 2^-14 * (mantissa / 1024),
     * exponent 31 infinity or NaN (a NaN keeps its sign and payload, shifted into the FP32 mantissa).
     */
    static float halfToFloat(int bits) {
        int sign = (bits >> 15) & 1;
        int exponent = (bits >> 10) & 0x1f;
        int mantissa = bits & 0x3ff;
        if (exponent == 31) {
            return Float.intBitsToFloat(sign << 31 | 0xff << 23 | mantissa << 13);
        }
        double magnitude = exponent == 0 ? Math.scalb(mantissa / 1024.0, -14)
                : Math.scalb(1 + mantissa / 1024.0, exponent - 15);
        return (float) (sign == 1 ? -magnitude : magnitude); // exact: every half is a float; -0.0 keeps its sign
    }

    @Test
    void halfFloatFormulaMatchesKnownValues() {
        assertEquals(1.0f, halfToFloat(0x3c00));
        assertEquals(-2.0f, halfToFloat(0xc000));
        assertEquals(65504.0f, halfToFloat(0x7bff)); // largest finite half
        assertEquals(0x1p-24f, halfToFloat(0x0001)); // smallest subnormal
        assertEquals(Float.floatToRawIntBits(-0.0f), Float.floatToRawIntBits(halfToFloat(0x8000)));
        assertEquals(Float.NEGATIVE_INFINITY, halfToFloat(0xfc00));
        assertTrue(Float.isNaN(halfToFloat(0x7e00)));
    }

    private void assertLoadsExactly(TestModelFolder folder, ModelWeights weights) {
        Map<String, long[]> shapes = folder.expectedShapes();
        assertEquals(shapes.keySet(), weights.names());
        for (Map.Entry<String, float[]> e : folder.expectedTensors().entrySet()) {
            String name = e.getKey();
            assertEquals(folder.dtype().name(), weights.storedType(name).name(), name);
            try (NDManager sub = manager.newSubManager()) {
                NDArray a = weights.load(name, sub, DataType.FLOAT32, shapes.get(name));
                assertEquals(DataType.FLOAT32, a.getDataType(), name);
                assertArrayEquals(shapes.get(name), a.getShape().getShape(), name);
                float[] got = a.toFloatArray();
                float[] want = e.getValue();
                assertEquals(want.length, got.length, name);
                for (int i = 0; i < want.length; i++) {
                    if (Float.floatToRawIntBits(want[i]) != Float.floatToRawIntBits(got[i])) {
                        throw new AssertionError(name + "[" + i + "]: stored " + want[i] + ", loaded " + got[i]);
                    }
                }
            }
        }
    }

    // ------------------------------------------------------------------ bad folders

    @Test
    void noWeightFile() throws IOException {
        Path dir = TestModelFolder.llama().write(tmp.resolve("m"));
        Files.delete(dir.resolve("model.safetensors"));
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> ModelWeights.open(dir));
        assertTrue(e.getMessage().contains(dir.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("model.safetensors"), e.getMessage());
    }

    @Test
    void indexNamingAMissingShard() throws IOException {
        Path dir = TestModelFolder.llama().shards(2).write(tmp.resolve("m"));
        Path shard = dir.resolve("model-00002-of-00002.safetensors");
        Files.delete(shard);
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> ModelWeights.open(dir));
        assertTrue(e.getMessage().contains(shard.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("model.safetensors.index.json"), e.getMessage());
        assertTrue(e.getMessage().contains("missing"), e.getMessage());
    }

    @Test
    void indexNamingATensorAbsentFromItsShard() throws IOException {
        TestModelFolder folder = TestModelFolder.llama().shards(2);
        Path dir = folder.write(tmp.resolve("m"));
        String name = "model.norm.weight"; // last in state-dict order: in the second shard
        FolderEdits.editJson(dir.resolve("model.safetensors.index.json"),
                idx -> idx.withObject("weight_map").put(name, "model-00001-of-00002.safetensors"));
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> ModelWeights.open(dir));
        assertTrue(e.getMessage().contains(name), e.getMessage());
        assertTrue(e.getMessage().contains("model-00001-of-00002.safetensors"), e.getMessage());
        assertTrue(e.getMessage().contains(dir.resolve("model.safetensors.index.json").toString()), e.getMessage());
    }

    @Test
    void indexThatIsMalformedOrEmpty() throws IOException {
        Path dir = TestModelFolder.llama().shards(2).write(tmp.resolve("m"));
        Path index = dir.resolve("model.safetensors.index.json");
        Files.writeString(index, "{\"weight_map\": {");
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> ModelWeights.open(dir));
        assertTrue(e.getMessage().contains(index.toString()), e.getMessage());
        Files.writeString(index, "{\"metadata\": {}}");
        e = assertThrows(ModelLoadException.class, () -> ModelWeights.open(dir));
        assertTrue(e.getMessage().contains(index.toString()) && e.getMessage().contains("weight_map"), e.getMessage());
    }

    @Test
    void fileWithNoTensors() throws IOException {
        Path dir = TestModelFolder.llama().write(tmp.resolve("m"));
        Path file = dir.resolve("model.safetensors");
        FolderEdits.writeRaw(file, "{\"__metadata__\":{\"format\":\"pt\"}}", new byte[0]);
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> ModelWeights.open(dir));
        assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("no tensors"), e.getMessage());
    }

    @Test
    void truncatedShard() throws IOException {
        Path dir = TestModelFolder.llama().dtype(TensorDtype.BF16).shards(2).write(tmp.resolve("m"));
        Path shard = dir.resolve("model-00001-of-00002.safetensors");
        FolderEdits.truncate(shard, Files.size(shard) - 100);
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> ModelWeights.open(dir));
        assertTrue(e.getMessage().contains(shard.toString()) && e.getMessage().contains("truncated"), e.getMessage());
    }

    @Test
    void missingTensorIsNamedWithTheFile() throws IOException {
        TestModelFolder folder = TestModelFolder.llama();
        Path dir = folder.write(tmp.resolve("m"));
        String gone = "model.layers.1.mlp.up_proj.weight";
        rewriteWithout(folder, dir.resolve("model.safetensors"), gone);
        ModelWeights weights = ModelWeights.open(dir);
        assertFalse(weights.has(gone));
        ModelLoadException e = assertThrows(ModelLoadException.class,
                () -> weights.load(gone, manager, DataType.FLOAT32, 128, 64));
        assertTrue(e.getMessage().contains(gone), e.getMessage());
        assertTrue(e.getMessage().contains(dir.resolve("model.safetensors").toString()), e.getMessage());
    }

    @Test
    void shapeMismatchNamesTensorFileAndBothShapes() throws IOException {
        Path dir = TestModelFolder.llama().write(tmp.resolve("m"));
        ModelWeights weights = ModelWeights.open(dir);
        ModelLoadException e = assertThrows(ModelLoadException.class,
                () -> weights.load("model.norm.weight", manager, DataType.FLOAT32, 65));
        assertTrue(e.getMessage().contains("model.norm.weight"), e.getMessage());
        assertTrue(e.getMessage().contains(dir.resolve("model.safetensors").toString()), e.getMessage());
        assertTrue(e.getMessage().contains("[64]") && e.getMessage().contains("[65]"), e.getMessage());
    }

    /** Rewrites a single-file checkpoint without one tensor, as if it had been deleted from the file. */
    static void rewriteWithout(TestModelFolder folder, Path file, String gone) throws IOException {
        List<SafetensorsWriter.Tensor> kept = new ArrayList<>();
        Map<String, long[]> shapes = folder.expectedShapes();
        folder.expectedTensors().forEach((name, values) -> {
            if (!name.equals(gone)) {
                kept.add(new SafetensorsWriter.Tensor(name, folder.dtype(), shapes.get(name), values));
            }
        });
        SafetensorsWriter.write(file, kept, Map.of("format", "pt"));
    }
}
