package dev.gatehouse.serving.gpu;

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import java.util.ArrayList;
import java.util.List;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.TagFilter;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;

/**
 * Runs the tests tagged {@code gpu} without Maven (scripts/gpu-check, from the bundle) and adds
 * each test's outcome to the report rows, beside the figures the tests measured; scripts/gpu-check
 * prints them as one table. Exits 1 when any failed, 2 when none ran.
 */
public final class GpuCheckMain {
    private GpuCheckMain() {}

    public static void main(String[] args) {
        LauncherDiscoveryRequest request = LauncherDiscoveryRequestBuilder.request()
                .selectors(selectClass(GpuCheckTest.class)).filters(TagFilter.includeTags("gpu")).build();
        List<String[]> outcomes = new ArrayList<>();
        Launcher launcher = LauncherFactory.create();
        launcher.execute(request, new TestExecutionListener() {
            @Override
            public void executionFinished(TestIdentifier test, TestExecutionResult result) {
                if (test.isTest()) {
                    String why = result.getThrowable().map(t -> firstLine(t.getMessage() == null ? t.toString() : t.getMessage()))
                            .orElse("");
                    outcomes.add(new String[] {test.getDisplayName(), result.getStatus().toString(), why});
                }
            }

            @Override
            public void executionSkipped(TestIdentifier test, String reason) {
                outcomes.add(new String[] {test.getDisplayName(), "SKIPPED", reason});
            }
        });
        for (String[] o : outcomes) {
            GpuReport.row("test " + o[0], o[1], o[2]);
        }
        System.out.println("gpu tests: " + outcomes.size() + " run, "
                + outcomes.stream().filter(o -> !o[1].equals("SUCCESSFUL")).count() + " not successful; rows in "
                + GpuReport.OUT.resolve("rows.tsv"));
        boolean failed = outcomes.stream().anyMatch(o -> !o[1].equals("SUCCESSFUL"));
        System.exit(outcomes.isEmpty() ? 2 : failed ? 1 : 0);
    }

    private static String firstLine(String s) {
        int nl = s.indexOf('\n');
        String line = nl < 0 ? s : s.substring(0, nl);
        return line.length() > 160 ? line.substring(0, 160) + "..." : line;
    }
}
