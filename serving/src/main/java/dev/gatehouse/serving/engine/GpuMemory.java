package dev.gatehouse.serving.engine;

import ai.djl.Device;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.util.cuda.CudaUtils;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/** Free memory of a GPU, and handing PyTorch's cached blocks back to it. */
final class GpuMemory {
    private static final Logger LOG = Logger.getLogger(GpuMemory.class.getName());

    private GpuMemory() {}

    /**
     * Free bytes on {@code gpu} as the driver counts them (after {@link #release}, so blocks
     * PyTorch only caches count as free): cudaMemGetInfo through DJL, else nvidia-smi; empty when
     * neither answers.
     */
    static OptionalLong free(Device gpu) {
        release();
        try {
            var usage = CudaUtils.getGpuMemory(gpu);
            return OptionalLong.of(usage.getMax() - usage.getCommitted());
        } catch (RuntimeException | LinkageError e) {
            LOG.fine("cudaMemGetInfo unavailable: " + e);
        }
        return nvidiaSmiFree(gpu.getDeviceId());
    }

    private static OptionalLong nvidiaSmiFree(int index) {
        try {
            Process p = new ProcessBuilder("nvidia-smi", "--query-gpu=memory.free", "--format=csv,noheader,nounits",
                    "-i", Integer.toString(index)).redirectErrorStream(true).start();
            String line;
            try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                line = out.readLine();
            }
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return OptionalLong.empty();
            }
            return p.exitValue() == 0 && line != null && line.trim().matches("\\d{1,9}")
                    ? OptionalLong.of(Long.parseLong(line.trim()) << 20) : OptionalLong.empty();
        } catch (IOException e) {
            return OptionalLong.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return OptionalLong.empty();
        }
    }

    /** Returns the blocks PyTorch's caching allocator holds but no tensor uses (no-op without CUDA). */
    static void release() {
        JniUtils.emptyCudaCache();
    }

    /** Whether a failure is the device running out of memory (PyTorch's "CUDA out of memory", c10::OutOfMemoryError). */
    static boolean isOutOfMemory(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            String m = t.getMessage();
            if (m != null && m.toLowerCase(java.util.Locale.ROOT).contains("out of memory")) {
                return true;
            }
        }
        return false;
    }

    /** The first line of a failure's message: PyTorch's OOM text is followed by allocator advice and a C++ trace. */
    static String firstLine(Throwable e) {
        String m = e.getMessage() == null ? e.toString() : e.getMessage();
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }
}
