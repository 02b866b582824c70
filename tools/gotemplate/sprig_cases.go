package main

// SD is the data of the sprig and spew cases: JSON values of every kind.
const SD = `{
 "s": "hello", "e": "", "i": 42, "z": 0, "neg": -7, "f": 3.5, "fi": 2.0, "t": true, "fa": false, "n": null,
 "l": [1, 2, 3], "el": [], "ls": ["b", "a", "c"], "lf": [1.5, 2.5], "ld": [1, 1, "a", "a", 2.5, [1], [1], null],
 "m": {"b": 2, "a": 1, "c": 3}, "m1": {"k": [1, "v"]}, "em": {}, "nm": {"a": {"b": {"c": "deep"}}}, "m2": {"a": 10, "d": 4, "x": {"y": 1}},
 "u": "héllo wörld ☃", "sp": "  padded  ", "ns": "12", "fs": "3.75", "hex": "0x1F", "oct": "0777",
 "big": [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17], "mixed": [1, "two", 3.5, true, null, [1], {"k": "v"}], "nl": [null], "ln": [[1, 2], [3, 4]]
}`

func sc(name, tmpl string) Case { return Case{Name: name, Tmpl: tmpl, Data: SD} }

func sprigCases() []Case {
	return []Case{
		// ---- strings ----
		sc("strings/trim", `[{{sprig_trim "  a b \n"}}] [{{sprig_trim .sp}}] [{{sprig_trim ""}}]`),
		sc("strings/trim-wrong-type", `{{sprig_trim 1}}`),
		sc("strings/upper-lower", `{{sprig_upper .u}} {{sprig_lower "ÀBC"}} {{.s | sprig_upper}}`),
		sc("strings/title-untitle", `{{sprig_title "hello wide world"}} {{sprig_untitle "Hello World"}} [{{sprig_untitle ""}}]`),
		sc("strings/substr", `{{sprig_substr 1 3 "hello"}} {{sprig_substr -1 3 "hello"}} {{sprig_substr 2 -1 "hello"}} {{sprig_substr 2 99 "hello"}}`),
		sc("strings/substr-bad", `{{sprig_substr 4 2 "hello"}}`),
		sc("strings/repeat", `{{sprig_repeat 3 "ab"}} [{{sprig_repeat 0 "x"}}] {{"-" | sprig_repeat 5}}`),
		sc("strings/repeat-negative", `{{sprig_repeat -1 "x"}}`),
		sc("strings/trimAll", `{{sprig_trimAll "$" "$$5.00$"}} {{sprig_trimall "ab" "abcba"}} [{{sprig_trimAll "" "x"}}]`),
		sc("strings/trimSuffix-Prefix", `{{sprig_trimSuffix "-" "ab-"}} {{sprig_trimPrefix "-" "-ab"}} {{sprig_trimPrefix "x" "ab"}}`),
		sc("strings/nospace", `[{{sprig_nospace " h e\tl\nl o "}}] [{{sprig_nospace ""}}]`),
		sc("strings/initials", `{{sprig_initials "First Try"}} [{{sprig_initials ""}}] {{sprig_initials "  a  b  "}}`),
		sc("strings/swapcase", `{{sprig_swapcase "This Is A.Test"}} [{{sprig_swapcase ""}}]`),
		sc("strings/snakecase", `{{sprig_snakecase "FirstName"}} {{sprig_snakecase "HTTPServer"}} {{sprig_snakecase "already_snake"}} {{sprig_snakecase "a-b c"}}`),
		sc("strings/camelcase", `{{sprig_camelcase "http_server"}} {{sprig_camelcase "_camel_case"}} {{sprig_camelcase "no_https"}} {{sprig_camelcase "all"}}`),
		sc("strings/kebabcase", `{{sprig_kebabcase "FirstName"}} {{sprig_kebabcase "HTTPServer"}} {{sprig_kebabcase "a_b"}}`),
		sc("strings/wrap", `{{sprig_wrap 5 "Hello World, this is long"}}|{{sprig_wrap 80 "short"}}`),
		sc("strings/wrapWith", `{{sprig_wrapWith 5 "\t" "Hello World"}}|{{sprig_wrapWith 3 "<br>" "abcdefgh"}}`),
		sc("strings/contains", `{{sprig_contains "cat" "catch"}} {{sprig_contains "dog" "catch"}} {{sprig_contains "" "x"}}`),
		sc("strings/hasPrefix-Suffix", `{{sprig_hasPrefix "cat" "catch"}} {{sprig_hasSuffix "ch" "catch"}} {{sprig_hasSuffix "x" "catch"}}`),
		sc("strings/quote", `{{sprig_quote "a" 1 .n "b\"c" .f}} [{{sprig_quote}}] {{sprig_quote .l}} {{sprig_quote "☃\n"}}`),
		sc("strings/squote", `{{sprig_squote "a" 1 .n .f .l}} [{{sprig_squote}}]`),
		sc("strings/cat", `{{sprig_cat "a" 1 .n 2.5 .t}} [{{sprig_cat}}] {{sprig_cat .l .m}}`),
		sc("strings/indent", `{{sprig_indent 2 "a\nb\n"}}|{{sprig_nindent 3 "x"}}|{{sprig_indent 0 "y"}}`),
		sc("strings/replace", `{{sprig_replace " " "-" "a b c"}} {{sprig_replace "" "." "abc"}} {{"x" | sprig_replace "x" "y"}}`),
		sc("strings/plural", `{{sprig_plural "one" "many" 1}} {{sprig_plural "one" "many" 0}} {{sprig_plural "one" "many" 2}}`),
		sc("strings/toString", `{{sprig_toString 1}} {{sprig_toString .f}} {{sprig_toString .n}} {{sprig_toString .l}} {{sprig_toString .m}} {{sprig_toString .t}}`),
		sc("strings/abbrev", `{{sprig_abbrev 5 "hello world"}} {{sprig_abbrev 3 "hello"}} {{sprig_abbrev 20 "hello"}} {{sprig_abbrev 4 "hello"}}`),
		sc("strings/abbrevboth", `{{sprig_abbrevboth 5 10 "1234 5678 9123"}} {{sprig_abbrevboth 0 3 "abc"}} {{sprig_abbrevboth 1 6 "abcdefghij"}}`),
		sc("strings/trunc", `{{sprig_trunc 5 "hello world"}} {{sprig_trunc -5 "hello world"}} {{sprig_trunc 50 "hi"}} {{sprig_trunc -50 "hi"}} [{{sprig_trunc 0 "hi"}}]`),
		sc("strings/join", `{{sprig_join "," .ls}} {{sprig_join "-" .mixed}} {{sprig_join "," "abc"}} [{{sprig_join "," .n}}] {{sprig_join "+" .l}}`),
		sc("strings/split", `{{$p := sprig_split "$" "foo$bar$baz"}}{{$p._0}} {{$p._2}} {{$p}} {{sprig_split "," ""}}`),
		sc("strings/splitList", `{{sprig_splitList "$" "foo$bar"}} {{sprig_splitList "" "abc"}} {{len (sprig_splitList "," "")}} {{printf "%T" (sprig_splitList "," "a")}}`),
		sc("strings/splitn", `{{sprig_splitn "$" 2 "foo$bar$baz"}} {{sprig_splitn "$" 0 "a$b"}} {{sprig_splitn "$" -1 "a$b"}}`),
		sc("strings/toStrings", `{{sprig_toStrings .mixed}} {{sprig_toStrings 5}} {{sprig_toStrings .n}} {{printf "%q" (sprig_toStrings .l)}}`),
		sc("strings/sortAlpha", `{{sprig_sortAlpha .ls}} {{sprig_sortAlpha .l}} {{sprig_sortAlpha "z"}} {{sprig_sortAlpha .mixed}}`),
		sc("strings/seq", `[{{sprig_seq}}] {{sprig_seq 3}} {{sprig_seq 0}} {{sprig_seq -3}} {{sprig_seq 2 5}} {{sprig_seq 5 2}} {{sprig_seq 0 2 10}} {{sprig_seq 10 -3 0}} [{{sprig_seq 0 -1 5}}] [{{sprig_seq 1 2 3 4}}]`),

		// ---- encoding and hashes ----
		sc("encoding/b64", `{{sprig_b64enc "hello ☃"}} {{sprig_b64dec "aGVsbG8="}} {{sprig_b64enc ""}}`),
		sc("encoding/b64dec-bad", `{{sprig_b64dec "a=b"}}|{{sprig_b64dec "aGVsbG8"}}`),
		sc("encoding/b32", `{{sprig_b32enc "hello"}} {{sprig_b32dec "NBSWY3DP"}} {{sprig_b32enc ""}}`),
		sc("encoding/b32dec-bad", `{{sprig_b32dec "1234"}}`),
		sc("crypto/sums", `{{sprig_sha1sum "abc"}} {{sprig_sha256sum "abc"}} {{sprig_adler32sum "abc"}} {{sprig_adler32sum ""}}`),

		// ---- conversions ----
		sc("conv/atoi", `{{sprig_atoi "42"}} {{sprig_atoi "x"}} {{sprig_atoi " 1"}} {{sprig_atoi "-0"}} {{sprig_atoi "+5"}}`),
		sc("conv/int64", `{{sprig_int64 "42"}} {{sprig_int64 .f}} {{sprig_int64 .hex}} {{sprig_int64 .oct}} {{sprig_int64 "12.00"}} {{sprig_int64 "1.5"}} {{sprig_int64 .t}} {{sprig_int64 .n}} {{sprig_int64 .l}} {{sprig_int64 "1_000"}} {{sprig_int64 -3.9}}`),
		sc("conv/int", `{{sprig_int "42"}} {{sprig_int .f}} {{sprig_int "0b101"}} {{sprig_int "x"}} {{printf "%T" (sprig_int 3)}}`),
		sc("conv/float64", `{{sprig_float64 "3.5"}} {{sprig_float64 2}} {{sprig_float64 "x"}} {{sprig_float64 .t}} {{sprig_float64 "1e3"}} {{sprig_float64 .n}} {{printf "%T" (sprig_float64 1)}}`),
		sc("conv/toDecimal", `{{sprig_toDecimal "0777"}} {{sprig_toDecimal 777}} {{sprig_toDecimal "8"}} {{sprig_toDecimal "-10"}}`),

		// ---- integer math ----
		sc("math/add", `{{sprig_add 1 2 3}} {{sprig_add}} {{sprig_add "4" 1.9}} {{sprig_add .i .neg}} {{sprig_add1 .i}} {{sprig_add1 "x"}}`),
		sc("math/sub-mul", `{{sprig_sub 10 3}} {{sprig_sub 3 10}} {{sprig_mul 2 3 4}} {{sprig_mul 5}} {{sprig_mul "2" 2.9}}`),
		sc("math/div-mod", `{{sprig_div 10 3}} {{sprig_div -7 2}} {{sprig_mod 10 3}} {{sprig_mod -7 2}}`),
		sc("math/div-zero", `{{sprig_div 1 0}}`),
		sc("math/mod-zero", `{{sprig_mod 1 0}}`),
		sc("math/max-min", `{{sprig_max 1 5 3}} {{sprig_biggest 2 "9"}} {{sprig_min 4 -2 8}} {{sprig_max 7}} {{sprig_min "x" 3}}`),
		sc("math/float", `{{sprig_addf 1.1 2.2}} {{sprig_add1f 1.5}} {{sprig_subf 10 1.1 0.2}} {{sprig_mulf 1.1 3}} {{sprig_divf 10 4}} {{sprig_divf 1 3}} {{sprig_addf}}`),
		sc("math/divf-zero", `{{sprig_divf 1 0}}`),
		sc("math/maxf-minf", `{{sprig_maxf 1 2.5 -3}} {{sprig_minf 1 2.5 -3}} {{sprig_maxf "x"}}`),
		sc("math/ceil-floor-round", `{{sprig_ceil 1.2}} {{sprig_floor 1.8}} {{sprig_ceil "-1.5"}} {{sprig_round 3.746 2}} {{sprig_round 3.745 2 0.4}} {{sprig_round 2.5 0}} {{sprig_round -2.5 0}} {{sprig_round 1234.5678 -2}}`),
		sc("math/until", `{{sprig_until 5}} {{sprig_until -3}} {{sprig_until 0}} {{sprig_untilStep 1 10 3}} {{sprig_untilStep 10 1 -4}} {{sprig_untilStep 0 5 0}} {{sprig_untilStep 5 0 1}}`),
		sc("math/types", `{{printf "%T %T %T %T" (sprig_add 1 2) (sprig_addf 1 2) (sprig_until 2) (sprig_max 1)}}`),

		// ---- defaults, flow ----
		sc("defaults/default", `{{sprig_default "foo" .e}} {{sprig_default "foo" "bar"}} {{sprig_default 1 .z}} {{sprig_default "d" .n}} {{sprig_default "d" .nope}} {{sprig_default "d" .el}} {{sprig_default "d" .em}} {{sprig_default "d" .fa}} {{sprig_default "d"}} {{.e | sprig_default "piped"}}`),
		sc("defaults/empty", `{{sprig_empty .e}} {{sprig_empty .s}} {{sprig_empty .z}} {{sprig_empty .fi}} {{sprig_empty .n}} {{sprig_empty .el}} {{sprig_empty .l}} {{sprig_empty .em}} {{sprig_empty .fa}} {{sprig_empty .nope}}`),
		sc("defaults/coalesce", `{{sprig_coalesce .e .z "x" 1}} {{sprig_coalesce .n .e}} {{sprig_coalesce}}`),
		sc("defaults/all-any", `{{sprig_all 1 "a" .t}} {{sprig_all 1 .e}} {{sprig_all}} {{sprig_any .e .z "x"}} {{sprig_any .e .z}} {{sprig_any}}`),
		sc("defaults/ternary", `{{sprig_ternary "y" "n" true}} {{sprig_ternary "y" "n" false}} {{true | sprig_ternary 1 2}}`),
		sc("defaults/ternary-bad", `{{sprig_ternary "y" "n" 1}}`),
		sc("defaults/fail", `{{sprig_fail "boom: stop"}}`),
		sc("defaults/compact", `{{sprig_compact .mixed}} {{sprig_compact (sprig_list "" 0 "a" .n .fa)}} {{sprig_mustCompact .el}}`),
		sc("defaults/compact-bad", `{{sprig_mustCompact 1}}`),

		// ---- JSON ----
		sc("json/toJson", `{{sprig_toJson .m}} {{sprig_toJson .mixed}} {{sprig_toJson "<&>"}} {{sprig_toJson .n}} {{sprig_toJson .f}} {{sprig_toJson .fi}} {{sprig_toJson .u}}`),
		sc("json/toPrettyJson", `{{sprig_toPrettyJson .nm}}|{{sprig_toPrettyJson .el}}|{{sprig_toPrettyJson .em}}|{{sprig_toPrettyJson .l}}`),
		sc("json/toRawJson", `{{sprig_toRawJson .m}} {{sprig_toRawJson "<&>"}} {{sprig_mustToRawJson (sprig_list "a<b")}}`),
		sc("json/fromJson", `{{$j := sprig_fromJson "{\"a\":1,\"b\":[true,null,2.5]}"}}{{$j.a}} {{printf "%T" $j.a}} {{$j.b}} {{sprig_fromJson "bad"}} {{sprig_fromJson "3"}}`),
		sc("json/mustFromJson-bad", `{{sprig_mustFromJson "{bad"}}`),
		sc("json/must", `{{sprig_mustToJson .l}} {{sprig_mustToPrettyJson .m}}`),

		// ---- reflection ----
		sc("reflect/typeOf", `{{sprig_typeOf .s}} {{sprig_typeOf .i}} {{sprig_typeOf .f}} {{sprig_typeOf .l}} {{sprig_typeOf .m}} {{sprig_typeOf .n}} {{sprig_typeOf .t}} {{sprig_typeOf (sprig_list)}} {{sprig_typeOf (sprig_splitList "," "a")}}`),
		sc("reflect/kindOf", `{{sprig_kindOf .s}} {{sprig_kindOf .i}} {{sprig_kindOf .f}} {{sprig_kindOf .l}} {{sprig_kindOf .m}} {{sprig_kindOf .n}} {{sprig_kindOf .t}}`),
		sc("reflect/is", `{{sprig_typeIs "string" .s}} {{sprig_typeIs "int" .s}} {{sprig_typeIsLike "int" .i}} {{sprig_kindIs "slice" .l}} {{sprig_kindIs "map" .l}} {{sprig_kindIs "invalid" .n}}`),
		sc("reflect/deepEqual", `{{sprig_deepEqual .l .l}} {{sprig_deepEqual .l (sprig_list 1 2 3)}} {{sprig_deepEqual 1 1}} {{sprig_deepEqual 1 1.0}} {{sprig_deepEqual .m .m}} {{sprig_deepEqual .n .n}} {{sprig_deepEqual "a" "b"}}`),

		// ---- paths ----
		sc("paths/path", `{{sprig_base "/a/b.txt"}} {{sprig_dir "/a/b.txt"}} {{sprig_clean "a//b/../c/."}} {{sprig_ext "x.tar.gz"}} {{sprig_isAbs "/x"}} {{sprig_isAbs "x"}} [{{sprig_base ""}}] {{sprig_dir ""}} {{sprig_clean ""}} [{{sprig_ext "noext"}}] {{sprig_base "/"}} {{sprig_dir "a/"}} {{sprig_base "a/b/"}}`),
		sc("paths/os", `{{sprig_osBase "/a/b.txt"}} {{sprig_osDir "/a/b.txt"}} {{sprig_osClean "/../a/./b"}} {{sprig_osExt "a.b"}} {{sprig_osIsAbs "/x"}}`),

		// ---- lists ----
		sc("lists/list-tuple", `{{sprig_list 1 "a" .n .f}} {{sprig_tuple}} {{len (sprig_list 1 2)}} {{index (sprig_tuple "x" "y") 1}}`),
		sc("lists/append-prepend", `{{sprig_append .l 4}} {{sprig_push .el "x"}} {{sprig_prepend .ls "z"}} {{sprig_mustAppend (sprig_list) 1}} {{sprig_mustPrepend .l .n}}`),
		sc("lists/append-bad", `{{sprig_append 1 2}}`),
		sc("lists/mustPush-bad", `{{sprig_mustPush "ab" 2}}`),
		sc("lists/append-nil", `{{sprig_append .n 2}}`),
		sc("lists/first-last", `{{sprig_first .ls}} {{sprig_last .ls}} {{sprig_first .el}} {{sprig_last .el}} {{sprig_mustFirst .l}} {{sprig_mustLast .mixed}}`),
		sc("lists/first-bad", `{{sprig_first 1}}`),
		sc("lists/mustLast-bad", `{{sprig_mustLast .m}}`),
		sc("lists/rest-initial", `{{sprig_rest .ls}} {{sprig_initial .ls}} {{sprig_rest .el}} {{sprig_initial .el}} {{sprig_mustRest (sprig_list 1)}} {{sprig_mustInitial .l}}`),
		sc("lists/rest-bad", `{{sprig_mustRest "x"}}`),
		sc("lists/reverse", `{{sprig_reverse .ls}} {{sprig_reverse .el}} {{sprig_mustReverse .mixed}}`),
		sc("lists/reverse-bad", `{{sprig_reverse .s}}`),
		sc("lists/uniq", `{{sprig_uniq .ld}} {{sprig_uniq .el}} {{sprig_mustUniq (sprig_list 1 1.0 "1")}}`),
		sc("lists/uniq-bad", `{{sprig_mustUniq 3}}`),
		sc("lists/without", `{{sprig_without .ld 1 .n}} {{sprig_without .ls "a" "z"}} {{sprig_mustWithout .l}}`),
		sc("lists/without-bad", `{{sprig_without .m 1}}`),
		sc("lists/has", `{{sprig_has 2 .l}} {{sprig_has "2" .l}} {{sprig_has 2.0 .l}} {{sprig_has .n .nl}} {{sprig_has 1 .n}} {{sprig_mustHas "a" .ls}}`),
		sc("lists/has-bad", `{{sprig_has 1 "abc"}}`),
		sc("lists/slice", `{{sprig_slice .ls}} {{sprig_slice .ls 1}} {{sprig_slice .ls 1 2}} {{sprig_slice .ls 0 0}} {{sprig_slice .el}} {{sprig_mustSlice .l "1"}} {{sprig_slice (sprig_splitList "," "a,b,c") 1}}`),
		sc("lists/slice-oob", `{{sprig_slice (sprig_list 1 2) 1 5}}`),
		sc("lists/slice-bad", `{{sprig_mustSlice .m 1}}`),
		sc("lists/concat", `{{sprig_concat .l .ls}} {{sprig_concat}} {{sprig_concat .el .el}} {{sprig_concat .l (sprig_list 9)}}`),
		sc("lists/concat-bad", `{{sprig_concat .l 1}}`),
		sc("lists/chunk", `{{sprig_chunk 2 .l}} {{sprig_chunk 3 .l}} {{sprig_chunk 5 .mixed}} {{sprig_mustChunk 1 .ls}}`),
		sc("lists/chunk-empty", `{{sprig_chunk 2 .el}}`),
		sc("lists/chunk-bad", `{{sprig_chunk 2 "ab"}}`),

		// ---- dicts ----
		sc("dicts/dict", `{{sprig_dict "a" 1 "b" "two"}} {{sprig_dict}} {{sprig_dict "odd"}} {{sprig_dict 1 2 .n 3}} {{(sprig_dict "k" .l).k}}`),
		sc("dicts/get-set-unset", `{{$d := sprig_dict "a" 1}}{{sprig_get $d "a"}} [{{sprig_get $d "x"}}] {{sprig_set $d "b" 2}} {{sprig_unset $d "a"}} {{$d}} {{sprig_unset $d "zz"}}`),
		sc("dicts/hasKey", `{{sprig_hasKey .m "a"}} {{sprig_hasKey .m "z"}} {{sprig_hasKey .em ""}}`),
		sc("dicts/get-bad", `{{sprig_get .l "a"}}`),
		sc("dicts/get-nil", `[{{sprig_get .n "a"}}] [{{sprig_get .nope "a"}}]`),
		sc("dicts/pluck", `{{sprig_pluck "a" .m .m2 .em}} {{sprig_pluck "z" .m}} {{sprig_pluck "a"}}`),
		sc("dicts/keys", `{{sprig_keys .m | sprig_sortAlpha}} {{sprig_keys .em}} {{sprig_keys}} {{sprig_keys (sprig_dict "x" 1)}} {{sprig_keys .m .m2 | sprig_sortAlpha}}`),
		sc("dicts/values", `{{sprig_values (sprig_dict "x" 1)}} {{sprig_values .em}} {{sprig_values .m | sprig_sortAlpha}}`),
		sc("dicts/pick-omit", `{{sprig_pick .m "a" "c" "z"}} {{sprig_pick .m}} {{sprig_omit .m "a"}} {{sprig_omit .m}}`),
		sc("dicts/merge", `{{$d := sprig_dict "a" 1 "e" ""}}{{sprig_merge $d .m2 .m}} {{$d}} {{sprig_merge (sprig_dict) .nm}}`),
		sc("dicts/mergeOverwrite", `{{$d := sprig_dict "a" 1 "x" (sprig_dict "y" 5 "z" 6)}}{{sprig_mergeOverwrite $d .m2}} {{sprig_mustMergeOverwrite (sprig_dict "a" 1) (sprig_dict "a" 0)}} {{sprig_mustMerge (sprig_dict "a" 0 "b" "") (sprig_dict "a" 3 "b" "x")}}`),
		sc("dicts/dig", `{{sprig_dig "a" "b" "c" "none" .nm}} {{sprig_dig "a" "x" "c" "none" .nm}} {{sprig_dig "a" "dflt" .em}} {{sprig_dig "a" "b" 0 .nm}}`),
		sc("dicts/dig-bad", `{{sprig_dig "b" "a" "d" .m}}`),
		sc("dicts/dig-short", `{{sprig_dig "a" .m}}`),
		sc("dicts/deepCopy", `{{$c := sprig_deepCopy .m}}{{sprig_set $c "a" 9}} {{.m}} {{sprig_deepCopy .l}} {{sprig_mustDeepCopy .nm}} {{sprig_deepCopy .n}}`),

		// ---- regular expressions ----
		sc("regex/match", `{{sprig_regexMatch "^[a-z]+$" "abc"}} {{sprig_regexMatch "^[a-z]+$" "ab1"}} {{sprig_regexMatch "(" "x"}} {{sprig_mustRegexMatch "b+" "abbc"}}`),
		sc("regex/mustMatch-bad", `{{sprig_mustRegexMatch "(" "x"}}`),
		sc("regex/find", `{{sprig_regexFind "[0-9]+" "ab12cd345"}} [{{sprig_regexFind "z" "abc"}}] {{sprig_regexFindAll "[0-9]+" "ab12cd345e6" -1}} {{sprig_regexFindAll "[0-9]+" "ab12cd345e6" 2}} {{sprig_regexFindAll "x" "abc" -1}} {{sprig_mustRegexFind "c." "abcd"}} {{sprig_mustRegexFindAll "a*" "baaab" -1}}`),
		sc("regex/find-bad", `{{sprig_regexFind "[" "x"}}`),
		sc("regex/mustFindAll-bad", `{{sprig_mustRegexFindAll "a**" "x" 1}}`),
		sc("regex/replace", `{{sprig_regexReplaceAll "a(x*)b" "-ab-axxb-" "${1}W"}} {{sprig_regexReplaceAll "a(x*)b" "-ab-axxb-" "$1W"}} {{sprig_regexReplaceAllLiteral "a(x*)b" "-ab-axxb-" "${1}"}} {{sprig_mustRegexReplaceAll "(?P<n>x+)" "axxb" "<$n>"}} {{sprig_mustRegexReplaceAllLiteral "x" "axb" "$$"}} {{sprig_regexReplaceAll "" "abc" "-"}}`),
		sc("regex/replace-bad", `{{sprig_mustRegexReplaceAll "(" "x" "y"}}`),
		sc("regex/split", `{{sprig_regexSplit "z+" "pizza" -1}} {{sprig_regexSplit "z+" "pizza" 0}} {{sprig_regexSplit "z+" "pizza" 1}} {{sprig_regexSplit "" "abc" -1}} {{sprig_mustRegexSplit "a" "banana" 2}} {{sprig_regexSplit "x*" "axbxc" -1}}`),
		sc("regex/quoteMeta", `{{sprig_regexQuoteMeta "1.5-2.0?[x]"}} {{sprig_regexQuoteMeta ""}}`),

		// ---- URLs ----
		sc("url/parse", `{{$u := sprig_urlParse "https://user:pw@example.com:8080/a/b?x=1&y=2#frag"}}{{$u.scheme}}|{{$u.host}}|{{$u.hostname}}|{{$u.path}}|{{$u.query}}|{{$u.fragment}}|{{$u.userinfo}}|{{$u.opaque}} {{sprig_urlParse "mailto:a@b.c"}} {{sprig_urlParse "/rel/path?q"}}`),
		sc("url/parse-bad", `{{sprig_urlParse "http://[::1"}}`),
		sc("url/join", `{{sprig_urlJoin (sprig_dict "scheme" "https" "host" "h:1" "path" "/a b" "query" "q=1" "fragment" "f" "userinfo" "u:p")}} {{sprig_urlJoin (sprig_dict "host" "x")}} {{sprig_urlJoin (sprig_dict)}} {{sprig_urlJoin (sprig_dict "scheme" "mailto" "opaque" "a@b")}}`),
		sc("url/join-bad", `{{sprig_urlJoin (sprig_dict "host" 1)}}`),

		// ---- semver ----
		sc("semver/compare", `{{sprig_semverCompare ">=1.2.0" "1.3.0"}} {{sprig_semverCompare "~1.2.0" "1.3.0"}} {{sprig_semverCompare "^1.2.0" "1.9.9"}} {{sprig_semverCompare "1.2.x" "1.2.7"}} {{sprig_semverCompare ">1.0, <2.0" "1.5.0"}} {{sprig_semverCompare "<1.0 || >=3" "3.1.0"}} {{sprig_semverCompare ">=1.2.0" "1.3.0-beta"}} {{sprig_semverCompare "1.2.3 - 1.4.5" "1.4.0"}}`),
		sc("semver/compare-bad-version", `{{sprig_semverCompare ">=1.2.0" "x.y"}}`),
		sc("semver/compare-bad-constraint", `{{sprig_semverCompare "?1" "1.0.0"}}`),
		sc("semver/fields", `{{$v := sprig_semver "v1.2.3-beta.1+build.5"}}{{$v.Major}} {{$v.Minor}} {{$v.Patch}} {{$v.Prerelease}} {{$v.Metadata}} {{$v.Original}} {{$v}} {{(sprig_semver "1.2").String}} {{(sprig_semver "2").Original}}`),
		sc("semver/bad", `{{sprig_semver "1.2.3.4"}}`),
		sc("semver/methods", `{{$a := sprig_semver "1.2.3"}}{{$b := sprig_semver "1.10.0"}}{{$a.Compare $b}} {{$b.Compare $a}} {{$a.LessThan $b}} {{$a.GreaterThan $b}} {{$a.Equal (sprig_semver "v1.2.3")}}`),

		// ---- crypto that is deterministic ----
		sc("crypto/derivePassword", `{{sprig_derivePassword 1 "long" "password" "user" "example.com"}} {{sprig_derivePassword 2 "maximum" "pw" "u" "site"}} {{sprig_derivePassword 1 "pin" "p" "u" "s"}} {{sprig_derivePassword 1 "nope" "p" "u" "s"}}`),
		sc("crypto/decryptAES", `[{{sprig_decryptAES "secretkey" ""}}] {{sprig_decryptAES "secretkey" "ABEiM0RVZneImaq7zN3u/47waTwJ+Clf6CQiM7YsYtg="}}`),
		sc("crypto/decryptAES-bad", `{{sprig_decryptAES "k" "!!"}}`),

		// ---- durations ----
		sc("time/duration", `{{sprig_duration 95}} {{sprig_duration "3600"}} {{sprig_duration 0}} {{sprig_duration 86400}} {{sprig_duration "x"}}`),
		sc("time/durationRound", `{{sprig_durationRound "2h10m5s"}} {{sprig_durationRound 95}} {{sprig_durationRound "4000h"}} {{sprig_durationRound "0s"}} {{sprig_durationRound "-50s"}}`),

		// ---- spew ----
		sc("spew/sdump-scalars", `{{spew_sdump .s .i .f .fi .t .n .e}}`),
		sc("spew/sdump-containers", `{{spew_sdump .m1 .em .l .el .nm}}`),
		sc("spew/sdump-mixed", `{{spew_sdump .mixed}}`),
		sc("spew/sdump-sprig", `{{spew_sdump (sprig_list 1 "a") (sprig_dict "k" (sprig_list)) (sprig_splitList "," "a,b") (sprig_add 1 2)}}`),
		sc("spew/sdump-none", `[{{spew_sdump}}]`),
		sc("spew/sdump-unicode", `{{spew_sdump .u "tab\there" "quote\"d"}}`),
		sc("spew/sprintf", `{{spew_sprintf "%v|%+v|%#v|%#+v|%#v" .m1 .l .s .f .nm}}`),
		sc("spew/sprintf-scalars", `{{spew_sprintf "%v %v %v %d %s %q %x" .n .t .i .i .s .s .i}}`),
		sc("spew/sprintf-nested", `{{spew_sprintf "%v" .mixed}} {{spew_sprintf "%+v" .nm}} {{spew_sprintf "%#v" .ln}}`),
		sc("spew/sprintf-extra", `{{spew_sprintf "%v" 1 2}} {{spew_sprintf "%v %v" 1}} {{spew_sprintf "plain"}}`),
		sc("spew/sdump-bigger", `{{spew_sdump (sprig_until 5) (sprig_append (sprig_list 1 2 3) 4) (sprig_concat .l .l) (sprig_fromJson "[1,2,3,4,5]") .fs .big}}`),
		sc("spew/sprintf-types", `{{spew_sprintf "%v %+v %#v" (sprig_add 1 2) (sprig_splitList "," "a,b") (sprig_until 2)}} {{spew_sprintf "%#v" .n}} {{spew_sprintf "%#v" .el}}`),
		sc("spew/dump", `a{{spew_dump .l "x"}}b`),
		sc("spew/printf", `a{{spew_printf "%v-%v\n" .m1 .el}}b`),
	}
}
