package dev.gatehouse.serving.testing;

import java.nio.ByteBuffer;

/**
 * Storage dtypes the test folders can be written in. Values are always generated as float32, then
 * rounded to the storage dtype with round-to-nearest-even; {@link #round(float)} returns the exactly
 * widened float32 value of what ends up in the file.
 */
public enum TensorDtype {
    F32(4, "F32", "float32"),
    F16(2, "F16", "float16"),
    BF16(2, "BF16", "bfloat16");

    private final int bytes;
    private final String safetensorsName;
    private final String torchName;

    TensorDtype(int bytes, String safetensorsName, String torchName) {
        this.bytes = bytes;
        this.safetensorsName = safetensorsName;
        this.torchName = torchName;
    }

    /** Bytes per element. */
    public int bytes() {
        return bytes;
    }

    /** The name safetensors headers use: "F32", "F16", "BF16". */
    public String safetensorsName() {
        return safetensorsName;
    }

    /** The name config.json's {@code torch_dtype} uses: "float32", "float16", "bfloat16". */
    public String torchName() {
        return torchName;
    }

    public static TensorDtype fromSafetensorsName(String name) {
        for (TensorDtype d : values()) {
            if (d.safetensorsName.equals(name)) return d;
        }
        throw new IllegalArgumentException("unsupported safetensors dtype " + name);
    }

    /** Rounds {@code v} to this dtype (round-to-nearest-even) and widens it back to float32 exactly. */
    public float round(float v) {
        return switch (this) {
            case F32 -> v;
            case F16 -> Float.float16ToFloat(Float.floatToFloat16(v));
            case BF16 -> bf16BitsToFloat(floatToBf16Bits(v));
        };
    }

    /** Writes {@code v} (already representable in this dtype) little-endian into {@code out}. */
    public void put(ByteBuffer out, float v) {
        switch (this) {
            case F32 -> out.putFloat(v);
            case F16 -> out.putShort(Float.floatToFloat16(v));
            case BF16 -> out.putShort(floatToBf16Bits(v));
        }
    }

    /** Reads one little-endian element from {@code in} and widens it to float32. */
    public float get(ByteBuffer in) {
        return switch (this) {
            case F32 -> in.getFloat();
            case F16 -> Float.float16ToFloat(in.getShort());
            case BF16 -> bf16BitsToFloat(in.getShort());
        };
    }

    /** float32 to bfloat16 bits, round-to-nearest-even (NaN stays a quiet NaN). */
    public static short floatToBf16Bits(float v) {
        int bits = Float.floatToRawIntBits(v);
        if (Float.isNaN(v)) return (short) ((bits >>> 16) | 0x0040);
        int lsb = (bits >>> 16) & 1;
        bits += 0x7FFF + lsb;
        return (short) (bits >>> 16);
    }

    public static float bf16BitsToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }
}
