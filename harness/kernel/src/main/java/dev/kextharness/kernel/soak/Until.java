package dev.kextharness.kernel.soak;

import java.util.Locale;

/**
 * When a soak stops: at the panic (the default), once the kext has made a number of allocations,
 * or once the zone map holds a fraction of its capacity.
 *
 * <p>Stability: stable.
 */
public sealed interface Until {

    /** Run until the kernel panics. */
    record Panic() implements Until {
        @Override
        public String toString() {
            return "panic";
        }
    }

    /** Run until the kext has made {@code count} allocations (freed or not). */
    record Allocations(long count) implements Until {
        public Allocations {
            if (count < 1) {
                throw new IllegalArgumentException("--until needs at least 1 allocation, not " + count);
            }
        }

        @Override
        public String toString() {
            return count + " allocations";
        }
    }

    /** Run until {@code zone_map->size} reaches {@code fraction} of the zone map's capacity. */
    record MapFraction(double fraction) implements Until {
        public MapFraction {
            if (!(fraction > 0 && fraction <= 1)) {
                throw new IllegalArgumentException("--until needs a fraction of the zone map in (0, 1], such as 0.5 or "
                        + "50%, not " + fraction);
            }
        }

        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%.4g%% of the zone map", fraction * 100);
        }
    }

    /** Until the panic. */
    static Until panic() {
        return new Panic();
    }

    /**
     * Reads {@code panic}, a whole number of allocations ({@code 1000000}, {@code 1_000_000},
     * {@code 5M}, {@code 20k}), or a fraction of the zone map ({@code 0.5}, {@code 50%}).
     *
     * @throws IllegalArgumentException with a message that says what is accepted
     */
    static Until parse(String text) {
        String s = text == null ? "" : text.strip().toLowerCase(Locale.ROOT).replace("_", "");
        if (s.equals("panic")) {
            return panic();
        }
        try {
            if (s.endsWith("%")) {
                return new MapFraction(Double.parseDouble(s.substring(0, s.length() - 1)) / 100);
            }
            if (s.contains(".")) {
                return new MapFraction(Double.parseDouble(s));
            }
            long scale = 1;
            if (s.endsWith("k")) {
                scale = 1_000;
            } else if (s.endsWith("m")) {
                scale = 1_000_000;
            } else if (s.endsWith("g")) {
                scale = 1_000_000_000;
            }
            String digits = scale == 1 ? s : s.substring(0, s.length() - 1);
            return new Allocations(Math.multiplyExact(Long.parseLong(digits), scale));
        } catch (NumberFormatException | ArithmeticException e) {
            throw new IllegalArgumentException("--until takes 'panic', a number of allocations (such as 1000000 or 5M) "
                    + "or a fraction of the zone map (such as 0.5 or 50%), not '" + text + "'");
        }
    }
}
