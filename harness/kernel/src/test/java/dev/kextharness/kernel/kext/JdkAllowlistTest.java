package dev.kextharness.kernel.kext;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kextharness.kernel.kext.ClassInfo.Kind;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The JDK allowlist member by member: what kext code may call, and the rule for what it may not. */
class JdkAllowlistTest {

    @ParameterizedTest(name = "{0} {1}.{2}{3} -> {4}")
    @CsvSource(delimiter = '|', nullValues = "-", value = {
            "METHOD | java/lang/String | format | (Ljava/lang/String;[Ljava/lang/Object;)Ljava/lang/String; | -",
            "METHOD | java/lang/StringBuilder | append | (I)Ljava/lang/StringBuilder; | -",
            "METHOD | java/lang/Math | max | (JJ)J | -",
            "METHOD | java/util/ArrayList | stream | ()Ljava/util/stream/Stream; | -",
            "METHOD | java/util/stream/Stream | map | (Ljava/util/function/Function;)Ljava/util/stream/Stream; | -",
            "METHOD | java/util/concurrent/ConcurrentHashMap | forEach | (Ljava/util/function/BiConsumer;)V | -",
            "METHOD | java/util/concurrent/atomic/AtomicLong | incrementAndGet | ()J | -",
            "METHOD | java/lang/Class | getName | ()Ljava/lang/String; | -",
            "METHOD | java/lang/Enum | valueOf | (Ljava/lang/Class;Ljava/lang/String;)Ljava/lang/Enum; | -",
            "TYPE | java/util/NoSuchElementException | - | - | -",
            "TYPE | java/util/Map$Entry | - | - | -",
            "FIELD | java/nio/charset/StandardCharsets | UTF_8 | Ljava/nio/charset/Charset; | -",
            "METHOD | java/lang/System | exit | (I)V | JVM-wide",
            "METHOD | java/lang/Runtime | halt | (I)V | JVM-wide",
            "METHOD | java/lang/System | getProperty | (Ljava/lang/String;)Ljava/lang/String; | JVM-wide",
            "METHOD | java/lang/Integer | getInteger | (Ljava/lang/String;)Ljava/lang/Integer; | JVM-wide",
            "METHOD | java/util/Locale | setDefault | (Ljava/util/Locale;)V | JVM-wide",
            "FIELD | java/lang/System | out | Ljava/io/PrintStream; | console",
            "METHOD | java/lang/Throwable | printStackTrace | ()V | console",
            "METHOD | java/nio/file/Files | readString | (Ljava/nio/file/Path;)Ljava/lang/String; | I/O",
            "TYPE | java/io/File | - | - | I/O",
            "METHOD | java/lang/Thread | start | ()V | thread",
            "METHOD | java/util/concurrent/CompletableFuture | supplyAsync | (Ljava/util/function/Supplier;)Ljava/util/concurrent/CompletableFuture; | thread",
            "METHOD | java/util/concurrent/ForkJoinPool | commonPool | ()Ljava/util/concurrent/ForkJoinPool; | thread",
            "TYPE | java/util/Timer | - | - | thread",
            "METHOD | java/util/stream/StreamSupport | intStream | (Ljava/util/Spliterator$OfInt;Z)Ljava/util/stream/IntStream; | thread",
            "METHOD | java/util/concurrent/ConcurrentHashMap | forEach | (JLjava/util/function/BiConsumer;)V | thread",
            "METHOD | java/util/concurrent/ConcurrentHashMap | reduceValuesToLong | (JLjava/util/function/ToLongFunction;JLjava/util/function/LongBinaryOperator;)J | thread",
            "METHOD | java/util/ArrayList | parallelStream | ()Ljava/util/stream/Stream; | thread",
            "METHOD | java/util/Arrays | parallelSort | ([I)V | thread",
            "METHOD | java/lang/Object | wait | ()V | thread",
            "METHOD | java/util/concurrent/locks/ReentrantLock | lock | ()V | thread",
            "METHOD | java/lang/Class | getClassLoader | ()Ljava/lang/ClassLoader; | reflection",
            "METHOD | java/lang/Class | getDeclaredFields | ()[Ljava/lang/reflect/Field; | reflection",
            "METHOD | java/lang/Class | forName | (Ljava/lang/String;)Ljava/lang/Class; | reflection",
            "TYPE | java/lang/invoke/MethodHandles | - | - | reflection",
            "METHOD | java/beans/Statement | execute | ()V | reflection",
            "TYPE | sun/misc/Unsafe | - | - | reflection",
            "METHOD | java/nio/charset/Charset | forName | (Ljava/lang/String;)Ljava/nio/charset/Charset; | reflection",
            "TYPE | java/text/SimpleDateFormat | - | - | not on the JDK allowlist",
    })
    void theAllowlistDecides(Kind kind, String owner, String name, String desc, String rule) {
        CodeRule refused = JdkAllowlist.refusal(kind, owner, name, desc);
        assertThat(refused == null ? null : refused.tag).isEqualTo(rule);
    }
}
