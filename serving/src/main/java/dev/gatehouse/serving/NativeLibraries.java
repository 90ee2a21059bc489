package dev.gatehouse.serving;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;

/**
 * How DJL finds its native libraries: from the jars or the folders it is pointed at, never by a
 * download while the gateway starts or serves. Without this, DJL's tokenizers loader picks a CUDA
 * build of libtokenizers on a machine with a GPU (the jar holds only the CPU one) and downloads it,
 * and the PyTorch engine downloads a libtorch matching whatever CUDA it finds. The operator's own
 * {@code RUST_FLAVOR} or {@code DJL_OFFLINE} (environment or system property) always wins:
 * {@code DJL_OFFLINE=false} is how an image build fetches libtorch on purpose.
 */
public final class NativeLibraries {
    private NativeLibraries() {}

    /** Applies {@link #settings} to this JVM's system properties; call before the first DJL native use. */
    public static synchronized void pinOffline() {
        settings(System.getenv(), System.getProperties()).forEach(System::setProperty);
    }

    /**
     * The system properties to set, given the environment and the properties already set:
     * {@code RUST_FLAVOR=cpu} (the tokenizers build inside the jar; tokenization runs on the CPU
     * anyway) and {@code ai.djl.offline=true}, each unless the operator chose otherwise.
     */
    static Map<String, String> settings(Map<String, String> env, Properties properties) {
        Map<String, String> out = new LinkedHashMap<>();
        if (env.get("RUST_FLAVOR") == null && properties.getProperty("RUST_FLAVOR") == null) {
            out.put("RUST_FLAVOR", "cpu");
        }
        if (env.get("DJL_OFFLINE") == null && properties.getProperty("ai.djl.offline") == null
                && properties.getProperty("offline") == null) {
            out.put("ai.djl.offline", "true");
        }
        return out;
    }
}
