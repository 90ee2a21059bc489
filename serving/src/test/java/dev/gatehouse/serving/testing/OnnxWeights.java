package dev.gatehouse.serving.testing;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the float32 weights (graph initializers) of an ONNX model, and which node output each
 * MatMul weight feeds, straight from the protobuf wire format: ONNX Runtime's Java API does not
 * expose initializers, and the few fields needed here do not justify protobuf-java plus onnx.proto.
 *
 * <p>Fields read (onnx.proto3): ModelProto.graph = 7; GraphProto.node = 1, .initializer = 5;
 * NodeProto.input = 1, .output = 2, .op_type = 4; TensorProto.dims = 1, .data_type = 2 (1 = FLOAT),
 * .name = 8, .raw_data = 9 (little-endian), .data_location = 14 (1 = EXTERNAL, refused).
 * Initializers of other types (the int64 position_ids, say) are skipped.
 */
public final class OnnxWeights {
    private static final int FLOAT = 1;

    /** One float32 initializer, values in row-major order. */
    public record Tensor(String name, long[] dims, float[] values) {}

    /** Float initializers by name, in file order. */
    public final Map<String, Tensor> tensors = new LinkedHashMap<>();
    /** For each initializer that is the second input of a MatMul node: that node's output name. */
    public final Map<String, String> matMulOutputs = new LinkedHashMap<>();

    private OnnxWeights() {}

    public static OnnxWeights read(Path file) throws IOException {
        ByteBuffer model = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        OnnxWeights w = new OnnxWeights();
        ByteBuffer graph = null;
        for (Field f : fields(model)) {
            if (f.number == 7) graph = f.bytes;
        }
        if (graph == null) throw new IOException(file + ": no graph");
        for (Field f : fields(graph)) {
            if (f.number == 5) w.initializer(f.bytes);
            else if (f.number == 1) w.node(f.bytes);
        }
        w.matMulOutputs.keySet().retainAll(w.tensors.keySet());
        return w;
    }

    private void initializer(ByteBuffer tensor) throws IOException {
        List<Long> dims = new ArrayList<>();
        String name = null;
        long dataType = 0;
        ByteBuffer raw = null;
        for (Field f : fields(tensor)) {
            switch (f.number) {
                case 1 -> {
                    if (f.bytes == null) dims.add(f.varint);
                    else while (f.bytes.hasRemaining()) dims.add(varint(f.bytes)); // packed
                }
                case 2 -> dataType = f.varint;
                case 8 -> name = string(f.bytes);
                case 9 -> raw = f.bytes;
                case 14 -> {
                    if (f.varint == 1) throw new IOException("initializer " + name + " is stored outside the .onnx file");
                }
                default -> { }
            }
        }
        if (dataType != FLOAT) return;
        if (raw == null) throw new IOException("initializer " + name + " has no raw_data (float_data is not read)");
        float[] values = new float[raw.remaining() / 4];
        raw.order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(values);
        long[] shape = dims.stream().mapToLong(Long::longValue).toArray();
        tensors.put(name, new Tensor(name, shape, values));
    }

    private void node(ByteBuffer node) throws IOException {
        List<String> inputs = new ArrayList<>();
        String output = null;
        String op = null;
        for (Field f : fields(node)) {
            switch (f.number) {
                case 1 -> inputs.add(string(f.bytes));
                case 2 -> output = output == null ? string(f.bytes) : output;
                case 4 -> op = string(f.bytes);
                default -> { }
            }
        }
        if ("MatMul".equals(op) && inputs.size() == 2) matMulOutputs.put(inputs.get(1), output);
    }

    /** A field: varint for wire type 0 (fixed-size ones are skipped), bytes for wire type 2. */
    private record Field(int number, long varint, ByteBuffer bytes) {}

    private static List<Field> fields(ByteBuffer message) throws IOException {
        ByteBuffer b = message.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        List<Field> out = new ArrayList<>();
        while (b.hasRemaining()) {
            long key = varint(b);
            int number = (int) (key >>> 3);
            switch ((int) (key & 7)) {
                case 0 -> out.add(new Field(number, varint(b), null));
                case 1 -> b.position(b.position() + 8);
                case 5 -> b.position(b.position() + 4);
                case 2 -> {
                    int n = Math.toIntExact(varint(b));
                    out.add(new Field(number, 0, b.slice(b.position(), n)));
                    b.position(b.position() + n);
                }
                default -> throw new IOException("unsupported protobuf wire type " + (key & 7));
            }
        }
        return out;
    }

    private static long varint(ByteBuffer b) {
        long v = 0;
        for (int shift = 0; ; shift += 7) {
            byte c = b.get();
            v |= (long) (c & 0x7f) << shift;
            if (c >= 0) return v;
        }
    }

    private static String string(ByteBuffer b) {
        byte[] bytes = new byte[b.remaining()];
        b.duplicate().get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
