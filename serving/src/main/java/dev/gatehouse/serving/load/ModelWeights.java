package dev.gatehouse.serving.load;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * All tensors of a model folder, from {@code model.safetensors} or from the shards named by
 * {@code model.safetensors.index.json}, turned into NDArrays on request.
 *
 * <p>{@link #map} hands out a tensor's stored bytes (the CPU's 16-bit weights are used so, in place).
 * {@link #load} makes an NDArray: on CPU every tensor becomes FP32: F32 data is used straight from the memory map (no copy),
 * F16/BF16 are widened in Java, chunk by chunk, because DJL 0.36 aborts the JVM on a BF16 array and
 * FP16 matmul on CPU is several times slower. On GPU, F16 stays F16 and BF16 is widened then cast
 * back on the device.
 */
public final class ModelWeights {
    private static final int CHUNK_BYTES = 32 << 20;

    private final Map<String, Safetensors.TensorInfo> infos = new LinkedHashMap<>();
    private final Map<String, Safetensors> files = new HashMap<>();
    /** model.safetensors or the index: where a user looks for a tensor that is missing. */
    private final Path source;

    private ModelWeights(Path source) {
        this.source = source;
    }

    public static ModelWeights open(Path folder) {
        Path single = folder.resolve("model.safetensors");
        Path index = folder.resolve("model.safetensors.index.json");
        ModelWeights w = new ModelWeights(Files.exists(index) ? index : single);
        if (Files.exists(index)) {
            JsonNode map = Json.read(index).path("weight_map");
            if (!map.isObject() || map.isEmpty()) {
                throw new ModelLoadException(index + " has no weight_map");
            }
            Map<String, Safetensors> shards = new HashMap<>();
            map.fields().forEachRemaining(e -> {
                String shard = e.getValue().asText();
                Safetensors st = shards.computeIfAbsent(shard, s -> {
                    Path file = folder.resolve(s);
                    if (!Files.isRegularFile(file)) { // an interrupted download: say which shard to fetch again
                        throw new ModelLoadException(index + " names shard " + file + ", which is missing");
                    }
                    return Safetensors.open(file);
                });
                Safetensors.TensorInfo info = st.tensors().get(e.getKey());
                if (info == null) {
                    throw new ModelLoadException(index + " maps " + e.getKey() + " to " + shard + ", which does not contain it");
                }
                w.add(st, info);
            });
        } else if (Files.exists(single)) {
            Safetensors st = Safetensors.open(single);
            st.tensors().values().forEach(info -> w.add(st, info));
        } else {
            throw new ModelLoadException("no weights in " + folder + ": expected model.safetensors or model.safetensors.index.json");
        }
        if (w.infos.isEmpty()) {
            throw new ModelLoadException(w.source + " holds no tensors");
        }
        return w;
    }

    private void add(Safetensors file, Safetensors.TensorInfo info) {
        infos.put(info.name(), info);
        files.put(info.name(), file);
    }

    public Set<String> names() {
        return infos.keySet();
    }

    public boolean has(String name) {
        return infos.containsKey(name);
    }

    /** How many numbers a tensor holds. */
    public long elementCount(String name) {
        return info(name).elementCount();
    }

    /** A tensor's dimensions as stored. */
    public long[] shape(String name) {
        return info(name).shape().clone();
    }

    /** The dtype the checkpoint stores a tensor in. */
    public Safetensors.DType storedType(String name) {
        return info(name).dtype();
    }

    /**
     * Loads a tensor as {@code computeType} onto the manager's device, checking its shape against
     * what the config implies.
     */
    public NDArray load(String name, NDManager manager, DataType computeType, long... expectedShape) {
        if (computeType == DataType.BFLOAT16) { // DJL 0.36's native dtype lookup has no BF16: the cast would abort the JVM
            throw new IllegalArgumentException("tensors load as float16 or float32, not bfloat16");
        }
        Safetensors.TensorInfo info = info(name);
        ByteBuffer data = map(name, expectedShape);
        Shape shape = new Shape(info.shape());
        boolean gpu = manager.getDevice().isGpu();
        NDArray array = switch (info.dtype()) {
            case F32 -> manager.create(data, shape, DataType.FLOAT32);
            case F16 -> gpu ? manager.create(data, shape, DataType.FLOAT16) : widen(data, info, manager);
            case BF16 -> widen(data, info, manager);
        };
        if (array.getDataType() != computeType) {
            NDArray cast = array.toType(computeType, false);
            array.close();
            array = cast;
        }
        return array;
    }

    /**
     * A tensor's bytes as stored, memory-mapped read-only and little-endian, checking its shape
     * against what the config implies: the pages are read from the file as they are used.
     */
    public ByteBuffer map(String name, long... expectedShape) {
        Safetensors.TensorInfo info = info(name);
        if (!Arrays.equals(info.shape(), expectedShape)) {
            throw new ModelLoadException("tensor " + name + " in " + files.get(name).file() + " has shape "
                    + Arrays.toString(info.shape()) + " but config.json implies " + Arrays.toString(expectedShape));
        }
        return files.get(name).map(info);
    }

    private Safetensors.TensorInfo info(String name) {
        Safetensors.TensorInfo info = infos.get(name);
        if (info == null) {
            throw new ModelLoadException("tensor " + name + " is missing from " + source);
        }
        return info;
    }

    /**
     * Widens 16-bit floats to FP32 into a torch-owned array, a chunk of rows at a time so that no
     * single direct buffer grows past {@link #CHUNK_BYTES} whatever the tensor's size.
     */
    private static NDArray widen(ByteBuffer src, Safetensors.TensorInfo info, NDManager manager) {
        long[] shape = info.shape();
        long rows = shape.length == 0 ? 1 : shape[0];
        long rowElements = rows == 0 ? 0 : info.elementCount() / rows;
        long rowsPerChunk = Math.max(1, CHUNK_BYTES / Math.max(1, rowElements * 4));
        ByteBuffer scratch = ByteBuffer.allocateDirect((int) (Math.min(rows, rowsPerChunk) * rowElements * 4))
                .order(ByteOrder.nativeOrder());
        if (rows <= rowsPerChunk) {
            widenRows(src, info.dtype(), 0, (int) info.elementCount(), scratch);
            try (NDArray whole = manager.create(scratch, new Shape(shape), DataType.FLOAT32)) {
                return whole.duplicate(); // torch-owned copy: the scratch buffer is not kept alive
            }
        }
        NDArray out = manager.zeros(new Shape(shape), DataType.FLOAT32);
        for (long r0 = 0; r0 < rows; r0 += rowsPerChunk) {
            long r1 = Math.min(rows, r0 + rowsPerChunk);
            widenRows(src, info.dtype(), (int) (r0 * rowElements), (int) (r1 * rowElements), scratch);
            long[] chunkShape = shape.clone();
            chunkShape[0] = r1 - r0;
            try (NDArray chunk = manager.create(scratch, new Shape(chunkShape), DataType.FLOAT32)) {
                out.set(new NDIndex().addSliceDim(r0, r1), chunk);
            }
        }
        return out;
    }

    /** BF16 is the top half of an FP32; F16 needs a real conversion. */
    private static void widenRows(ByteBuffer src, Safetensors.DType dtype, int from, int to, ByteBuffer dst) {
        dst.clear();
        if (dtype == Safetensors.DType.BF16) {
            for (int i = from; i < to; i++) {
                dst.putFloat(Float.intBitsToFloat((src.getShort(2 * i) & 0xFFFF) << 16));
            }
        } else {
            for (int i = from; i < to; i++) {
                dst.putFloat(Float.float16ToFloat(src.getShort(2 * i)));
            }
        }
        dst.flip();
    }
}
