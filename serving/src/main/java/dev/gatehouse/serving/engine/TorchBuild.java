package dev.gatehouse.serving.engine;

import ai.djl.engine.Engine;
import ai.djl.engine.StandardCapabilities;
import ai.djl.pytorch.jni.LibUtils;
import dev.gatehouse.serving.NativeLibraries;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;

/**
 * The libtorch this JVM runs on, and what it says about CUDA. Whether a GPU is usable is asked of
 * libtorch ({@code torch::cuda::is_available()}, DJL's CUDA capability), not of the system's
 * libcudart, which may be missing or differ from the one libtorch was built with.
 */
public final class TorchBuild {
    private TorchBuild() {}

    /** The PyTorch engine, loaded without any download and never a CPU libtorch silently picked for a GPU build. */
    public static Engine engine() {
        NativeLibraries.pinOffline();
        String problem = unpinnedGpuBuild(hasBundledCpuLibtorch(), System.getenv(), System.getProperties());
        if (problem != null) {
            throw new IllegalStateException(problem);
        }
        return Engine.getEngine("PyTorch");
    }

    /** Whether libtorch sees a usable CUDA device. */
    public static boolean cudaAvailable() {
        return engine().hasCapability(StandardCapabilities.CUDA);
    }

    /** Whether the loaded libtorch is a CUDA build (its folder holds libtorch_cuda), GPU or not. */
    public static boolean isCudaBuild() {
        return Files.exists(Path.of(LibUtils.getLibtorchPath()).resolve(System.mapLibraryName("torch_cuda")));
    }

    public static String libtorchPath() {
        return LibUtils.getLibtorchPath();
    }

    private static boolean hasBundledCpuLibtorch() {
        return TorchBuild.class.getClassLoader().getResource("native/lib/pytorch.properties") != null;
    }

    /**
     * Why this start must stop, or null: a GPU build (the Maven profile {@code cuda}, no CPU
     * libtorch in the jars) that names no libtorch would let DJL choose one from the system's
     * libcudart, and fall back to a CPU libtorch where it finds none.
     */
    static String unpinnedGpuBuild(boolean bundledCpu, Map<String, String> env, Properties properties) {
        if (bundledCpu || set("PYTORCH_FLAVOR", env, properties) || set("PYTORCH_LIBRARY_PATH", env, properties)) {
            return null;
        }
        return "this is a GPU build (Maven profile cuda, no CPU libtorch inside) but neither PYTORCH_FLAVOR "
                + "(with PYTORCH_VERSION, e.g. cu128 and 2.7.1) nor PYTORCH_LIBRARY_PATH says which libtorch to use";
    }

    private static boolean set(String name, Map<String, String> env, Properties properties) {
        String v = env.get(name);
        if (v == null) {
            v = properties.getProperty(name);
        }
        return v != null && !v.isBlank();
    }
}
