package dev.gatehouse.gateway.route;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gatehouse.gateway.config.ModelRoute;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The per-request order of a route's targets: priorities first, then a weighted shuffle within one. */
class TargetOrderTest {
    private static final ModelRoute.Target HEAVY = ModelRoute.Target.provider("a", "m").withPriority(0, 3);
    private static final ModelRoute.Target LIGHT = ModelRoute.Target.provider("b", "m").withPriority(0, 1);
    private static final ModelRoute.Target SPARE = ModelRoute.Target.provider("c", "m").withPriority(1, 100);

    @Test
    void withoutPrioritiesOrWeightsTheListOrderIsKept() {
        List<ModelRoute.Target> targets = List.of(ModelRoute.Target.local("x"), ModelRoute.Target.provider("a", "m"),
                ModelRoute.Target.provider("b", "m"));
        assertEquals(targets, Router.order(targets, new SplittableRandom(1)));
    }

    @Test
    void weightsSplitFirstTriesAndALowerPriorityIsNeverFirst() {
        SplittableRandom random = new SplittableRandom(42);
        int heavyFirst = 0;
        int draws = 4000;
        for (int i = 0; i < draws; i++) {
            // listed lowest priority first: priority, not position, decides
            List<ModelRoute.Target> order = Router.order(List.of(SPARE, LIGHT, HEAVY), random);
            assertEquals(3, order.size());
            assertEquals(SPARE, order.get(2), "priority 1 only after every priority-0 target");
            if (order.get(0).equals(HEAVY)) {
                heavyFirst++;
            } else {
                assertEquals(LIGHT, order.get(0));
            }
            assertTrue(order.contains(HEAVY) && order.contains(LIGHT), "fallback still reaches both");
        }
        double share = heavyFirst / (double) draws;
        assertTrue(Math.abs(share - 0.75) < 0.03, "weight 3 of 4 went first " + share + " of the time");
    }

    @Test
    void sameSeedSameOrder() {
        List<ModelRoute.Target> targets = List.of(HEAVY, LIGHT, SPARE);
        SplittableRandom a = new SplittableRandom(7);
        SplittableRandom b = new SplittableRandom(7);
        for (int i = 0; i < 100; i++) {
            assertEquals(Router.order(targets, a), Router.order(targets, b));
        }
    }

    @Test
    void aDefaultPriorityIsThePositionInTheList() {
        ModelRoute.Target first = ModelRoute.Target.provider("a", "m");
        ModelRoute.Target second = ModelRoute.Target.provider("b", "m");
        ModelRoute.Target urgent = ModelRoute.Target.provider("c", "m").withPriority(-1, 1);
        assertEquals(List.of(urgent, first, second), Router.order(List.of(first, second, urgent), new SplittableRandom(3)));
    }
}
