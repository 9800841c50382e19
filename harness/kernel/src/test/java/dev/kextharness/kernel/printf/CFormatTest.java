package dev.kextharness.kernel.printf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** Expected strings are what C's printf prints on x86_64 (checked against glibc where macOS agrees). */
class CFormatTest {

    private static final Map<Long, String> KERNEL_STRINGS = Map.of(
            0xffffff8000001000L, "com.example.driver",
            0xffffff8000002000L, "");
    private static final CStringReader MEMORY = address -> {
        String s = KERNEL_STRINGS.get(address);
        if (s == null) {
            throw new AssertionError("unmapped address 0x" + Long.toHexString(address));
        }
        return s;
    };

    @Nested
    class Examples {
        @Test
        void memleakAddresses() {
            assertThat(CFormat.format("kext-memleak: byte allocated %#llx %#x", 0xffffff8027da0a10L, 0xef))
                    .isEqualTo("kext-memleak: byte allocated 0xffffff8027da0a10 0xef");
            assertThat(CFormat.format("kext-memleak: nil address %#llx", 0L))
                    .isEqualTo("kext-memleak: nil address 0");
        }

        @Test
        void memleakReport() {
            assertThat(CFormat.format("\n%s#L%d (potential memleak)  opt: %d cnt: %llu\n", "libkext_mref", 26, 2, 1L))
                    .isEqualTo("\nlibkext_mref#L26 (potential memleak)  opt: 2 cnt: 1\n");
        }

        @Test
        void longToPlainUpperHexIsTruncatedTo32Bits() {
            assertThat(CFormat.format("OSMalloc_Tagref():'%s' has bad state 0x%08X\n", "tag", 0xdeadbeefL))
                    .isEqualTo("OSMalloc_Tagref():'tag' has bad state 0xDEADBEEF\n");
        }

        @Test
        void zoneTable() {
            assertThat(CFormat.format("%-20s %10lu %10lu\n", "kalloc.48", 6544393440L, 12L))
                    .isEqualTo("kalloc.48            6544393440         12\n");
        }

        @Test
        void shortSpecs() {
            assertThat(CFormat.format("%5d", 42)).isEqualTo("   42");
            assertThat(CFormat.format("[%#-18llx]", 0xffffff80L)).isEqualTo("[0xffffff80        ]");
            assertThat(CFormat.format("[%#-10x]", 0xef)).isEqualTo("[0xef      ]");
            assertThat(CFormat.format("%+d", 42)).isEqualTo("+42");
            assertThat(CFormat.format("% d", 42)).isEqualTo(" 42");
            assertThat(CFormat.format("%05d", -42)).isEqualTo("-0042");
            assertThat(CFormat.format("%.3s", "kalloc")).isEqualTo("kal");
            assertThat(CFormat.format("%*d", 6, 42)).isEqualTo("    42");
            assertThat(CFormat.format("%hhx", 0x1ff)).isEqualTo("ff");
            assertThat(CFormat.format("%lld", Long.MIN_VALUE)).isEqualTo("-9223372036854775808");
            assertThat(CFormat.format("%p", 0xffffff7f9f73e000L)).isEqualTo("0xffffff7f9f73e000");
        }
    }

    @Nested
    class Literals {
        @Test
        void textWithoutConversionsIsReturnedAsIs() {
            String text = "no conversions here\n";
            assertThat(CFormat.format(text)).isSameAs(text);
        }

        @Test
        void percent() {
            assertThat(CFormat.format("100%%")).isEqualTo("100%");
            assertThat(CFormat.format("%d%%", 5)).isEqualTo("5%");
            assertThat(CFormat.format("%%d")).isEqualTo("%d");
            assertThat(CFormat.format("%5%")).isEqualTo("%");
        }

        @Test
        void extraArgumentsAreIgnored() {
            assertThat(CFormat.format("%d", 1, 2, "three")).isEqualTo("1");
            assertThat(CFormat.format("plain", 1)).isEqualTo("plain");
        }

        @Test
        void nullArgumentArrayMeansNoArguments() {
            assertThat(CFormat.format("100%%", (Object[]) null)).isEqualTo("100%");
        }
    }

    @Nested
    class SignedConversions {
        @Test
        void dAndI() {
            assertThat(CFormat.format("%d %i", 123, -123)).isEqualTo("123 -123");
            assertThat(CFormat.format("%d", 0)).isEqualTo("0");
            assertThat(CFormat.format("%d %d", Integer.MAX_VALUE, Integer.MIN_VALUE))
                    .isEqualTo("2147483647 -2147483648");
        }

        @Test
        void acceptsEveryIntegerKind() {
            assertThat(CFormat.format("%d %d %d %d %d", (byte) -5, (short) -300, 70000, 5L, 'A'))
                    .isEqualTo("-5 -300 70000 5 65");
        }

        @Test
        void plainDTruncatesALongToInt() {
            assertThat(CFormat.format("%d", 0x1_0000_0005L)).isEqualTo("5");
            assertThat(CFormat.format("%d", 0xffffffffL)).isEqualTo("-1");
        }

        @Test
        void lengthModifiersPickTheCType() {
            assertThat(CFormat.format("%hhd", 0xff)).isEqualTo("-1");
            assertThat(CFormat.format("%hhd", 0x17f)).isEqualTo("127");
            assertThat(CFormat.format("%hd", 0x8000)).isEqualTo("-32768");
            assertThat(CFormat.format("%hd", 70000)).isEqualTo("4464");
            assertThat(CFormat.format("%ld", 6544393440L)).isEqualTo("6544393440");
            assertThat(CFormat.format("%lld %qd", Long.MAX_VALUE, Long.MIN_VALUE))
                    .isEqualTo("9223372036854775807 -9223372036854775808");
            assertThat(CFormat.format("%zd %jd %td %Ld", -1L, -2L, -3L, -4L)).isEqualTo("-1 -2 -3 -4");
        }

        @Test
        void integerGivenToLongConversionIsSignExtended() {
            assertThat(CFormat.format("%ld", -7)).isEqualTo("-7");
        }

        @Test
        void signFlags() {
            assertThat(CFormat.format("%+d %+d %+d", 5, -5, 0)).isEqualTo("+5 -5 +0");
            assertThat(CFormat.format("% d|% d", 5, -5)).isEqualTo(" 5|-5");
            assertThat(CFormat.format("%+ d", 5)).isEqualTo("+5"); // + wins over space
        }

        @Test
        void widthAndJustification() {
            assertThat(CFormat.format("[%6d]", -42)).isEqualTo("[   -42]");
            assertThat(CFormat.format("[%-6d]", -42)).isEqualTo("[-42   ]");
            assertThat(CFormat.format("[%2d]", 12345)).isEqualTo("[12345]");
            assertThat(CFormat.format("[%06d]", 42)).isEqualTo("[000042]");
            assertThat(CFormat.format("[%+06d]", 42)).isEqualTo("[+00042]");
            assertThat(CFormat.format("[% 06d]", 42)).isEqualTo("[ 00042]");
            assertThat(CFormat.format("[%-06d]", 42)).isEqualTo("[42    ]");
        }

        @Test
        void precisionIsMinimumDigits() {
            assertThat(CFormat.format("[%.5d]", 42)).isEqualTo("[00042]");
            assertThat(CFormat.format("[%.5d]", -42)).isEqualTo("[-00042]");
            assertThat(CFormat.format("[%8.5d]", -42)).isEqualTo("[  -00042]");
            assertThat(CFormat.format("[%-8.5d]", 42)).isEqualTo("[00042   ]");
            assertThat(CFormat.format("[%.1d]", 123)).isEqualTo("[123]");
            assertThat(CFormat.format("[%.d]", 7)).isEqualTo("[7]");
        }

        @Test
        void zeroFlagIsIgnoredWithPrecision() {
            assertThat(CFormat.format("[%08.3d]", 42)).isEqualTo("[     042]");
        }

        @Test
        void precisionZeroPrintsNothingForZero() {
            assertThat(CFormat.format("[%.0d]", 0)).isEqualTo("[]");
            assertThat(CFormat.format("[%.d]", 0)).isEqualTo("[]");
            assertThat(CFormat.format("[%3.0d]", 0)).isEqualTo("[   ]");
            assertThat(CFormat.format("[%+.0d]", 0)).isEqualTo("[+]");
            assertThat(CFormat.format("[%.0d]", 1)).isEqualTo("[1]");
        }
    }

    @Nested
    class UnsignedConversions {
        @Test
        void negativeValuesWrapAtTheCWidth() {
            assertThat(CFormat.format("%u", -1)).isEqualTo("4294967295");
            assertThat(CFormat.format("%x", -1)).isEqualTo("ffffffff");
            assertThat(CFormat.format("%llx", -1L)).isEqualTo("ffffffffffffffff");
            assertThat(CFormat.format("%llu", -1L)).isEqualTo("18446744073709551615");
            assertThat(CFormat.format("%lu", Long.MIN_VALUE)).isEqualTo("9223372036854775808");
            assertThat(CFormat.format("%o", -1)).isEqualTo("37777777777");
            assertThat(CFormat.format("%llo", -1L)).isEqualTo("1777777777777777777777");
            assertThat(CFormat.format("%hu %hhu", -1, -1)).isEqualTo("65535 255");
            assertThat(CFormat.format("%hx %hhX", 0x12345, 0xabc)).isEqualTo("2345 BC");
        }

        @Test
        void byteAndCharacterArguments() {
            assertThat(CFormat.format("%u", (byte) -1)).isEqualTo("4294967295"); // char -1 promotes to int -1
            assertThat(CFormat.format("%x", '\uffff')).isEqualTo("ffff");
        }

        @Test
        void bases() {
            assertThat(CFormat.format("%u %o %x %X", 3054, 3054, 3054, 3054)).isEqualTo("3054 5756 bee BEE");
            assertThat(CFormat.format("%u %o %x", 0, 0, 0)).isEqualTo("0 0 0");
        }

        @Test
        void signFlagsDoNothing() {
            assertThat(CFormat.format("%+u % x", 5, 10)).isEqualTo("5 a");
        }

        @Test
        void alternateHexOnlyForNonZero() {
            assertThat(CFormat.format("%#x %#X", 255, 255)).isEqualTo("0xff 0XFF");
            assertThat(CFormat.format("%#x %#X", 0, 0)).isEqualTo("0 0");
            assertThat(CFormat.format("[%#010x]", 0xbeef)).isEqualTo("[0x0000beef]");
            assertThat(CFormat.format("[%#10x]", 0xbeef)).isEqualTo("[    0xbeef]");
            assertThat(CFormat.format("[%#.6x]", 0xbeef)).isEqualTo("[0x00beef]");
            assertThat(CFormat.format("[%#.0x]", 0)).isEqualTo("[]");
        }

        @Test
        void alternateOctalForcesALeadingZero() {
            assertThat(CFormat.format("%#o", 8)).isEqualTo("010");
            assertThat(CFormat.format("%#o", 0)).isEqualTo("0");
            assertThat(CFormat.format("[%#.0o]", 0)).isEqualTo("[0]");
            assertThat(CFormat.format("[%#.3o]", 8)).isEqualTo("[010]"); // already starts with 0
            assertThat(CFormat.format("[%#.2o]", 8)).isEqualTo("[010]");
            assertThat(CFormat.format("[%#6o]", 8)).isEqualTo("[   010]");
        }

        @Test
        void precisionAndWidth() {
            assertThat(CFormat.format("[%08x]", 0xbeef)).isEqualTo("[0000beef]");
            assertThat(CFormat.format("[%-8X]", 0xbeef)).isEqualTo("[BEEF    ]");
            assertThat(CFormat.format("[%.8x]", 0xbeef)).isEqualTo("[0000beef]");
            assertThat(CFormat.format("[%10.6u]", 42)).isEqualTo("[    000042]");
            assertThat(CFormat.format("[%.0x]", 0)).isEqualTo("[]");
        }
    }

    @Nested
    class Pointers {
        @Test
        void hexWithPrefixAndNoPadding() {
            assertThat(CFormat.format("%p", 0xffffff8027da0a10L)).isEqualTo("0xffffff8027da0a10");
            assertThat(CFormat.format("%p", 0x1000L)).isEqualTo("0x1000");
            assertThat(CFormat.format("%p", 0L)).isEqualTo("0x0");
            assertThat(CFormat.format("%p", (Object) null)).isEqualTo("0x0");
        }

        @Test
        void integerAddressIsZeroExtended() {
            assertThat(CFormat.format("%p", 0x8000_0000)).isEqualTo("0x80000000");
        }

        @Test
        void widthApplies() {
            assertThat(CFormat.format("[%10p]", 0x1000L)).isEqualTo("[    0x1000]");
            assertThat(CFormat.format("[%-10p]", 0x1000L)).isEqualTo("[0x1000    ]");
        }

        @Test
        void lengthModifiersAndSignFlagsAreIgnored() {
            assertThat(CFormat.format("%lp %+p", 0x10L, 0x10L)).isEqualTo("0x10 0x10");
        }
    }

    @Nested
    class Characters {
        @Test
        void characterOrCode() {
            assertThat(CFormat.format("%c%c%c", 'o', (int) 'k', (byte) '!')).isEqualTo("ok!");
            assertThat(CFormat.format("%c", 0x141)).isEqualTo("A"); // unsigned char keeps the low 8 bits
            assertThat(CFormat.format("%c", 0xe9)).isEqualTo("\u00e9");
        }

        @Test
        void widthPadsWithSpaces() {
            assertThat(CFormat.format("[%3c]", 'x')).isEqualTo("[  x]");
            assertThat(CFormat.format("[%-3c]", 'x')).isEqualTo("[x  ]");
            assertThat(CFormat.format("[%03c]", 'x')).isEqualTo("[  x]");
        }
    }

    @Nested
    class Strings {
        @Test
        void javaStrings() {
            assertThat(CFormat.format("%s/%s", "IOKit", new StringBuilder("kalloc"))).isEqualTo("IOKit/kalloc");
            assertThat(CFormat.format("[%s]", "")).isEqualTo("[]");
        }

        @Test
        void nullPrintsNull() {
            assertThat(CFormat.format("%s", (Object) null)).isEqualTo("(null)");
            assertThat(CFormat.format("%s %s", 0L, 0)).isEqualTo("(null) (null)");
            assertThat(CFormat.format("[%.3s]", (Object) null)).isEqualTo("[(nu]");
        }

        @Test
        void widthAndPrecision() {
            assertThat(CFormat.format("[%8s]", "zone")).isEqualTo("[    zone]");
            assertThat(CFormat.format("[%-8s]", "zone")).isEqualTo("[zone    ]");
            assertThat(CFormat.format("[%2s]", "zone")).isEqualTo("[zone]");
            assertThat(CFormat.format("[%.2s]", "zone")).isEqualTo("[zo]");
            assertThat(CFormat.format("[%.10s]", "zone")).isEqualTo("[zone]");
            assertThat(CFormat.format("[%.0s]", "zone")).isEqualTo("[]");
            assertThat(CFormat.format("[%.s]", "zone")).isEqualTo("[]");
            assertThat(CFormat.format("[%6.2s]", "zone")).isEqualTo("[    zo]");
            assertThat(CFormat.format("[%-6.2s]", "zone")).isEqualTo("[zo    ]");
            assertThat(CFormat.format("[%06s]", "zone")).isEqualTo("[  zone]");
        }

        @Test
        void lengthModifierIsIgnored() {
            assertThat(CFormat.format("%ls", "wide")).isEqualTo("wide");
        }

        @Test
        void kernelAddressIsReadFromMemory() {
            assertThat(CFormat.format("kext %s loaded", new Object[] {0xffffff8000001000L}, MEMORY))
                    .isEqualTo("kext com.example.driver loaded");
            assertThat(CFormat.format("[%s]", new Object[] {0xffffff8000002000L}, MEMORY)).isEqualTo("[]");
            assertThat(CFormat.format("[%-20.11s]", new Object[] {0xffffff8000001000L}, MEMORY))
                    .isEqualTo("[com.example         ]");
        }

        @Test
        void nullAddressIsNotRead() {
            assertThat(CFormat.format("%s", new Object[] {0L}, MEMORY)).isEqualTo("(null)");
        }

        @Test
        void readerReturningNullPrintsNull() {
            assertThat(CFormat.format("%s", new Object[] {0x1000L}, address -> null)).isEqualTo("(null)");
        }

        @Test
        void javaStringsDoNotTouchMemory() {
            assertThat(CFormat.format("%s", new Object[] {"plain"}, MEMORY)).isEqualTo("plain");
        }
    }

    @Nested
    class Stars {
        @Test
        void starWidth() {
            assertThat(CFormat.format("[%*d]", 5, 42)).isEqualTo("[   42]");
            assertThat(CFormat.format("[%-*d]", 5, 42)).isEqualTo("[42   ]");
            assertThat(CFormat.format("[%0*x]", (short) 4, 0xa)).isEqualTo("[000a]");
        }

        @Test
        void negativeStarWidthLeftJustifies() {
            assertThat(CFormat.format("[%*d]", -5, 42)).isEqualTo("[42   ]");
            assertThat(CFormat.format("[%0*d]", -5, 42)).isEqualTo("[42   ]");
        }

        @Test
        void starPrecision() {
            assertThat(CFormat.format("[%.*s]", 3, "kalloc")).isEqualTo("[kal]");
            assertThat(CFormat.format("[%.*d]", 4, 7)).isEqualTo("[0007]");
        }

        @Test
        void negativeStarPrecisionMeansNone() {
            assertThat(CFormat.format("[%.*s]", -1, "kalloc")).isEqualTo("[kalloc]");
            assertThat(CFormat.format("[%05.*d]", -1, 7)).isEqualTo("[00007]");
        }

        @Test
        void starWidthAndPrecisionTakeArgumentsInOrder() {
            assertThat(CFormat.format("[%*.*s|%d]", 6, 2, "zone", 9)).isEqualTo("[    zo|9]");
        }
    }

    @Nested
    class Errors {
        @Test
        void missingArgument() {
            assertThatThrownBy(() -> CFormat.format("%d %s", 1))
                    .isInstanceOf(CFormatException.class)
                    .hasMessage("printf format \"%d %s\": conversion 2 (%s) has no argument: pass one argument per conversion");
        }

        @Test
        void missingStarArguments() {
            assertThatThrownBy(() -> CFormat.format("%*d"))
                    .isInstanceOf(CFormatException.class)
                    .hasMessage("printf format \"%*d\": conversion 1 (%*d) has no argument for its * width:"
                            + " pass the width as an Integer before the value");
            assertThatThrownBy(() -> CFormat.format("%.*s"))
                    .hasMessage("printf format \"%.*s\": conversion 1 (%.*s) has no argument for its * precision:"
                            + " pass the precision as an Integer before the value");
            assertThatThrownBy(() -> CFormat.format("%*d", 5))
                    .hasMessage("printf format \"%*d\": conversion 1 (%*d) has no argument: pass one argument per conversion");
        }

        @Test
        void conversionNumberSkipsLiteralPercents() {
            assertThatThrownBy(() -> CFormat.format("100%% %d%5% %s", 1))
                    .hasMessageContaining("conversion 2 (%s) has no argument");
        }

        @Test
        void unknownConversion() {
            assertThatThrownBy(() -> CFormat.format("value %y", 1))
                    .isInstanceOf(CFormatException.class)
                    .hasMessage("printf format \"value %y\": conversion 1 (%y) uses unknown conversion character 'y':"
                            + " use one of d i u o x X c s p, or %% for a percent sign");
        }

        @Test
        void floatingPointIsNotInTheKernel() {
            assertThatThrownBy(() -> CFormat.format("%5.2f", 1.5))
                    .hasMessage("printf format \"%5.2f\": conversion 1 (%5.2f) uses unknown conversion character 'f':"
                            + " use one of d i u o x X c s p, or %% for a percent sign (the kernel printf has no floating point)");
        }

        @Test
        void unknownConversionIsReportedBeforeArgumentsAreChecked() {
            assertThatThrownBy(() -> CFormat.format("%*n"))
                    .hasMessageContaining("conversion 1 (%*n) uses unknown conversion character 'n'");
        }

        @Test
        void incompleteConversion() {
            assertThatThrownBy(() -> CFormat.format("100%"))
                    .isInstanceOf(CFormatException.class)
                    .hasMessage("printf format \"100%\": conversion 1 (%) is incomplete: the format ends before the"
                            + " conversion character; finish it (e.g. %d) or write %% for a literal percent sign");
            assertThatThrownBy(() -> CFormat.format("size %-8ll", 1L))
                    .hasMessageContaining("conversion 1 (%-8ll) is incomplete");
        }

        @Test
        void booleanIsNotAnInteger() {
            assertThatThrownBy(() -> CFormat.format("ok=%d", true))
                    .isInstanceOf(CFormatException.class)
                    .hasMessage("printf format \"ok=%d\": conversion 1 (%d) takes an integer, not argument 1 (Boolean true):"
                            + " pass a Byte, Short, Integer, Long or Character (C has no boolean argument: pass b ? 1 : 0)");
        }

        @Test
        void otherWrongIntegerArguments() {
            assertThatThrownBy(() -> CFormat.format("%d %x", 1, "ff"))
                    .hasMessage("printf format \"%d %x\": conversion 2 (%x) takes an integer, not argument 2 (String \"ff\"):"
                            + " pass a Byte, Short, Integer, Long or Character");
            assertThatThrownBy(() -> CFormat.format("%u", 2.5))
                    .hasMessageContaining("not argument 1 (Double 2.5)");
            assertThatThrownBy(() -> CFormat.format("%lld", (Object) null))
                    .hasMessage("printf format \"%lld\": conversion 1 (%lld) takes an integer, not argument 1 (null):"
                            + " pass a Byte, Short, Integer, Long or Character");
        }

        @Test
        void wrongStringArgument() {
            assertThatThrownBy(() -> CFormat.format("%s", 'x'))
                    .isInstanceOf(CFormatException.class)
                    .hasMessage("printf format \"%s\": conversion 1 (%s) takes a string, not argument 1 (Character 'x'):"
                            + " pass a String, a Long kernel address or null (use %c for a Character)");
            assertThatThrownBy(() -> CFormat.format("%s", 1.0))
                    .hasMessage("printf format \"%s\": conversion 1 (%s) takes a string, not argument 1 (Double 1.0):"
                            + " pass a String, a Long kernel address or null");
        }

        @Test
        void addressWithoutMemory() {
            assertThatThrownBy(() -> CFormat.format("kext %s", 0xffffff8000001000L))
                    .isInstanceOf(CFormatException.class)
                    .hasMessage("printf format \"kext %s\": conversion 1 (%s) got kernel address 0xffffff8000001000"
                            + " (argument 1) but no kernel memory is available to read the string from:"
                            + " pass a String, or format with a CStringReader");
        }

        @Test
        void wrongCharacterArgument() {
            assertThatThrownBy(() -> CFormat.format("%c", "x"))
                    .hasMessage("printf format \"%c\": conversion 1 (%c) takes a character, not argument 1 (String \"x\"):"
                            + " pass a Character or an integer character code");
            assertThatThrownBy(() -> CFormat.format("%c", (Object) null))
                    .hasMessageContaining("takes a character, not argument 1 (null)");
        }

        @Test
        void wrongPointerArgument() {
            assertThatThrownBy(() -> CFormat.format("%p", "0x1000"))
                    .hasMessage("printf format \"%p\": conversion 1 (%p) takes a pointer, not argument 1 (String \"0x1000\"):"
                            + " pass the address as a Long (or null for NULL)");
        }

        @Test
        void wrongStarArgument() {
            assertThatThrownBy(() -> CFormat.format("%*d", 5L, 1))
                    .hasMessage("printf format \"%*d\": conversion 1 (%*d) takes its * width from an Integer,"
                            + " not argument 1 (Long 5): pass the width as an Integer");
            assertThatThrownBy(() -> CFormat.format("%.*s", "3", "abc"))
                    .hasMessageContaining("takes its * precision from an Integer, not argument 1 (String \"3\")");
        }

        @Test
        void absurdWidthOrPrecision() {
            assertThatThrownBy(() -> CFormat.format("%99999999999d", 1))
                    .hasMessage("printf format \"%99999999999d\": conversion 1 (%99999999999d) has a width over 1048576:"
                            + " no log line needs that; use a smaller width");
            assertThatThrownBy(() -> CFormat.format("%.*d", Integer.MAX_VALUE, 1))
                    .hasMessageContaining("has a precision over 1048576");
            assertThatThrownBy(() -> CFormat.format("%*d", Integer.MIN_VALUE, 1))
                    .hasMessageContaining("has a width over 1048576");
        }

        @Test
        void formatIsQuotedOnOneLine() {
            assertThatThrownBy(() -> CFormat.format("\t\"%y\"\n\\\u0001"))
                    .hasMessageStartingWith("printf format \"\\t\\\"%y\\\"\\n\\\\\\x01\": conversion 1 (%y) uses unknown");
        }

        @Test
        void longValuesAreShortenedInMessages() {
            String big = "x".repeat(100);
            assertThatThrownBy(() -> CFormat.format("%d", big))
                    .hasMessageContaining("not argument 1 (String \"" + "x".repeat(36) + "...)");
        }

        @Test
        void isAnIllegalArgumentException() {
            assertThatThrownBy(() -> CFormat.format("%d")).isInstanceOf(IllegalArgumentException.class);
        }
    }
}
