# embed.cmake — writes a C file defining a byte array from a binary file.
# cmake -DIN=file.wasm -DOUT=file.c -DSYM=name -P embed.cmake
file(READ "${IN}" hex HEX)
string(LENGTH "${hex}" n)
math(EXPR bytes "${n} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," body "${hex}")
string(REGEX REPLACE "((0x[0-9a-f][0-9a-f],){32})" "\\1\n" body "${body}")
file(WRITE "${OUT}" "/* generated from ${IN} by cmake/embed.cmake */\nconst unsigned char ${SYM}[] = {\n${body}\n};\nconst unsigned long ${SYM}_len = ${bytes};\n")
