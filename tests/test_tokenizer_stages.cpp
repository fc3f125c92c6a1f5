// Each pipeline stage on small inline tokenizer.json snippets. The expected values were produced by
// the reference, Hugging Face tokenizers 0.23 (npm "tokenizers"): normalizeString for normalizers,
// preTokenizeString for pre-tokenizers, decode for decoders, encode for whole tokenizers.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "ortlm/tokenizer.hpp"
#include "tokenizer/json_stages.hpp"
#include "util/utf8.hpp"

namespace {

using nlohmann::json;

const char* const kCases = R"json(
[
{"name":"nfkc","normalizer":{"type":"NFKC"},"input":"ﬁ ｶﾞ ①","expected":"fi ガ 1"},
{"name":"nfd_strip","normalizer":{"type":"Sequence","normalizers":[{"type":"NFD"},{"type":"StripAccents"}]},"input":"Café naïve Ångström","expected":"Cafe naive Angstrom"},
{"name":"nfc","normalizer":{"type":"NFC"},"input":"Café A̴ͫ","expected":"Café A̴ͫ"},
{"name":"lower","normalizer":{"type":"Lowercase"},"input":"HeLLo ÀÉÎ İstanbul ΣΑΣ","expected":"hello àéî i̇stanbul σασ"},
{"name":"strip","normalizer":{"type":"Strip","strip_left":true,"strip_right":true},"input":"  \t hi there \n ","expected":"hi there"},
{"name":"strip_left","normalizer":{"type":"Strip","strip_left":true,"strip_right":false},"input":"  hi  ","expected":"hi  "},
{"name":"replace_regex","normalizer":{"type":"Replace","pattern":{"Regex":"\\s+"},"content":" "},"input":"a   b\t\tc","expected":"a b c"},
{"name":"replace_str","normalizer":{"type":"Replace","pattern":{"String":"ab"},"content":"X"},"input":"abcabab","expected":"XcXX"},
{"name":"prepend","normalizer":{"type":"Prepend","prepend":"▁"},"input":"hi","expected":"▁hi"},
{"name":"bert","normalizer":{"type":"BertNormalizer","clean_text":true,"handle_chinese_chars":true,"strip_accents":null,"lowercase":true},"input":"Héllo\u0000 世界\tOK","expected":"hello  世  界  ok"},
{"name":"nmt","normalizer":{"type":"Nmt"},"input":"a\u0001b​c","expected":"ab c"},
{"name":"bytelevel","pre_tokenizer":{"type":"ByteLevel","add_prefix_space":true,"use_regex":true,"trim_offsets":true},"input":"Hello  world's 123 !!","expected":["ĠHello","Ġ","Ġworld","'s","Ġ123","Ġ!!"]},
{"name":"split_regex_isolated","pre_tokenizer":{"type":"Split","pattern":{"Regex":"\\d"},"behavior":"Isolated","invert":false},"input":"ab12cd3","expected":["ab","1","2","cd","3"]},
{"name":"split_removed","pre_tokenizer":{"type":"Split","pattern":{"String":"-"},"behavior":"Removed","invert":false},"input":"a-b--c-","expected":["a","b","c"]},
{"name":"split_prev","pre_tokenizer":{"type":"Split","pattern":{"String":"-"},"behavior":"MergedWithPrevious","invert":false},"input":"a-b--c-","expected":["a-","b-","-","c-"]},
{"name":"split_next","pre_tokenizer":{"type":"Split","pattern":{"String":"-"},"behavior":"MergedWithNext","invert":false},"input":"-a-b--c","expected":["-a","-b","-","-c"]},
{"name":"split_contig","pre_tokenizer":{"type":"Split","pattern":{"String":"-"},"behavior":"Contiguous","invert":false},"input":"a-b--c","expected":["a","-","b","--","c"]},
{"name":"split_invert","pre_tokenizer":{"type":"Split","pattern":{"Regex":"[a-z]+"},"behavior":"Removed","invert":true},"input":"ab, cd!ef","expected":["ab","cd","ef"]},
{"name":"metaspace_always","pre_tokenizer":{"type":"Metaspace","replacement":"▁","prepend_scheme":"always","split":true},"input":"Hello big world","expected":["▁Hello","▁big","▁world"]},
{"name":"metaspace_nosplit","pre_tokenizer":{"type":"Metaspace","replacement":"▁","prepend_scheme":"never","split":false},"input":"Hello big world","expected":["Hello▁big▁world"]},
{"name":"whitespace","pre_tokenizer":{"type":"Whitespace"},"input":"Hello, world! It's 3.14 ok","expected":["Hello",",","world","!","It","'","s","3",".","14","ok"]},
{"name":"whitespace_split","pre_tokenizer":{"type":"WhitespaceSplit"},"input":"Hello, world!\tIt's  ok","expected":["Hello,","world!","It's","ok"]},
{"name":"digits","pre_tokenizer":{"type":"Digits","individual_digits":true},"input":"a123b45","expected":["a","1","2","3","b","4","5"]},
{"name":"digits_contig","pre_tokenizer":{"type":"Digits","individual_digits":false},"input":"a123b45","expected":["a","123","b","45"]},
{"name":"punct","pre_tokenizer":{"type":"Punctuation","behavior":"Isolated"},"input":"Hey!? you.","expected":["Hey","!","?"," you","."]},
{"name":"chardelim","pre_tokenizer":{"type":"CharDelimiterSplit","delimiter":"|"},"input":"a|b||c","expected":["a","b","c"]},
{"name":"bert_pre","pre_tokenizer":{"type":"BertPreTokenizer"},"input":"Hello, world! (ok)","expected":["Hello",",","world","!","(","ok",")"]},
{"name":"sequence","pre_tokenizer":{"type":"Sequence","pretokenizers":[{"type":"WhitespaceSplit"},{"type":"Digits","individual_digits":true}]},"input":"ab12 c3","expected":["ab","1","2","c","3"]},
{"name":"metaspace_dec","decoder":{"type":"Metaspace","replacement":"▁","prepend_scheme":"always","split":true},"tokens":["▁Hello","▁big","world"],"ids":[0,1,2],"expected":"Hello bigworld"},
{"name":"bytefallback","decoder":{"type":"Sequence","decoders":[{"type":"ByteFallback"},{"type":"Fuse"}]},"tokens":["a","<0xE2>","<0x96>","<0x81>","b","c"],"ids":[0,1,2,3,4,1,5],"expected":"a▁b�c"},
{"name":"strip_dec","decoder":{"type":"Strip","content":" ","start":1,"stop":1},"tokens":[" a ","  b  "],"ids":[0,1],"expected":"a b "},
{"name":"replace_dec","decoder":{"type":"Replace","pattern":{"String":"▁"},"content":" "},"tokens":["▁a","▁b▁"],"ids":[0,1],"expected":" a b "},
{"name":"wordpiece_dec","decoder":{"type":"WordPiece","prefix":"##","cleanup":true},"tokens":["hello","##s","world",".","i","'m","do","not"],"ids":[0,1,2,3,4,5,6,7],"expected":"hellos world. i'm do not"},
{"name":"ctc_dec","decoder":{"type":"CTC","pad_token":"<pad>","word_delimiter_token":"|","cleanup":true},"tokens":["h","<pad>","e","l","o","|","w"],"ids":[0,0,1,2,3,3,1,3,4,5,6],"expected":"hello w"},
{"name":"bpe_dec","decoder":{"type":"BPEDecoder","suffix":"</w>"},"tokens":["hel","lo</w>","world</w>"],"ids":[0,1,2],"expected":"hello world"},
{"name":"bytelevel_dec","decoder":{"type":"ByteLevel","add_prefix_space":true,"trim_offsets":true,"use_regex":true},"tokens":["Hello","Ġworld","ĠâĤ","¬"],"ids":[0,1,2,3],"expected":"Hello world €"},
{"name":"bert_single","tokenizer":{"normalizer":{"type":"BertNormalizer","clean_text":true,"handle_chinese_chars":true,"strip_accents":null,"lowercase":true},"pre_tokenizer":{"type":"BertPreTokenizer"},"model":{"type":"WordPiece","unk_token":"[UNK]","continuing_subword_prefix":"##","max_input_chars_per_word":100,"vocab":{"[PAD]":0,"[UNK]":1,"[CLS]":2,"[SEP]":3,"hello":4,",":5,"world":6,"!":7,"un":8,"##aff":9,"##able":10,"the":11,"##s":12,"a":13}},"post_processor":{"type":"BertProcessing","sep":["[SEP]",3],"cls":["[CLS]",2]},"decoder":{"type":"WordPiece","prefix":"##","cleanup":true},"added_tokens":[{"id":0,"content":"[PAD]","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},{"id":1,"content":"[UNK]","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},{"id":2,"content":"[CLS]","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},{"id":3,"content":"[SEP]","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true}]},"input":"Hello, World! unaffable xyz","special":true,"expected":{"ids":[2,4,5,6,7,8,9,10,1,3],"tokens":["[CLS]","hello",",","world","!","un","##aff","##able","[UNK]","[SEP]"],"type_ids":[0,0,0,0,0,0,0,0,0,0],"offsets":[[0,0],[0,5],[5,6],[7,12],[12,13],[14,16],[16,19],[19,23],[24,27],[0,0]],"decoded":"[CLS] hello, world! unaffable [UNK] [SEP]"}},
{"name":"bert_pair","tokenizer":{"normalizer":{"type":"BertNormalizer","clean_text":true,"handle_chinese_chars":true,"strip_accents":null,"lowercase":true},"pre_tokenizer":{"type":"BertPreTokenizer"},"model":{"type":"WordPiece","unk_token":"[UNK]","continuing_subword_prefix":"##","max_input_chars_per_word":100,"vocab":{"[PAD]":0,"[UNK]":1,"[CLS]":2,"[SEP]":3,"hello":4,",":5,"world":6,"!":7,"un":8,"##aff":9,"##able":10,"the":11,"##s":12,"a":13}},"post_processor":{"type":"BertProcessing","sep":["[SEP]",3],"cls":["[CLS]",2]},"decoder":{"type":"WordPiece","prefix":"##","cleanup":true},"added_tokens":[{"id":0,"content":"[PAD]","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},{"id":1,"content":"[UNK]","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},{"id":2,"content":"[CLS]","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},{"id":3,"content":"[SEP]","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true}]},"input":"hello world","pair":"the unaffable","special":true,"expected":{"ids":[2,4,6,3,11,8,9,10,3],"tokens":["[CLS]","hello","world","[SEP]","the","un","##aff","##able","[SEP]"],"type_ids":[0,0,0,0,1,1,1,1,1],"offsets":[[0,0],[0,5],[6,11],[0,0],[0,3],[4,6],[6,9],[9,13],[0,0]],"decoded":"[CLS] hello world [SEP] the unaffable [SEP]"}},
{"name":"bert_pair_nospecial","tokenizer":{"normalizer":{"type":"BertNormalizer","clean_text":true,"handle_chinese_chars":true,"strip_accents":null,"lowercase":true},"pre_tokenizer":{"type":"BertPreTokenizer"},"model":{"type":"WordPiece","unk_token":"[UNK]","continuing_subword_prefix":"##","max_input_chars_per_word":100,"vocab":{"[PAD]":0,"[UNK]":1,"[CLS]":2,"[SEP]":3,"hello":4,",":5,"world":6,"!":7,"un":8,"##aff":9,"##able":10,"the":11,"##s":12,"a":13}},"post_processor":{"type":"BertProcessing","sep":["[SEP]",3],"cls":["[CLS]",2]},"decoder":{"type":"WordPiece","prefix":"##","cleanup":true},"added_tokens":[{"id":0,"content":"[PAD]","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},{"id":1,"content":"[UNK]","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},{"id":2,"content":"[CLS]","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},{"id":3,"content":"[SEP]","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true}]},"input":"hello world","pair":"the unaffable","special":false,"expected":{"ids":[4,6,11,8,9,10],"tokens":["hello","world","the","un","##aff","##able"],"type_ids":[0,0,1,1,1,1],"offsets":[[0,5],[6,11],[0,3],[4,6],[6,9],[9,13]],"decoded":"hello world the unaffable"}},
{"name":"unigram","tokenizer":{"normalizer":null,"pre_tokenizer":{"type":"Metaspace","replacement":"▁","prepend_scheme":"always","split":true},"model":{"type":"Unigram","unk_id":0,"byte_fallback":false,"vocab":[["<unk>",0.0],["▁",-2.0],["▁he",-3.0],["llo",-3.5],["▁hello",-5.0],["l",-4.0],["o",-4.0],["h",-4.5],["e",-4.5],["▁w",-4.0],["or",-4.0],["ld",-4.0],["▁world",-9.5]]},"decoder":{"type":"Metaspace","replacement":"▁","prepend_scheme":"always","split":true}},"input":"hello world hellxyzo","special":true,"expected":{"ids":[4,12,2,5,5,0,6],"tokens":["▁hello","▁world","▁he","l","l","xyz","o"],"type_ids":[0,0,0,0,0,0,0],"offsets":[[0,5],[5,11],[11,14],[14,15],[15,16],[16,19],[19,20]],"decoded":"hello world hell<unk>o"}},
{"name":"unigram_bytefallback","tokenizer":{"normalizer":null,"pre_tokenizer":{"type":"Metaspace","replacement":"▁","prepend_scheme":"always","split":true},"model":{"type":"Unigram","unk_id":0,"byte_fallback":true,"vocab":[["<unk>",0.0],["▁",-2.0],["▁he",-3.0],["llo",-3.5],["▁hello",-5.0],["l",-4.0],["o",-4.0],["h",-4.5],["e",-4.5],["▁w",-4.0],["or",-4.0],["ld",-4.0],["▁world",-9.5],["<0x00>",-10.0],["<0x01>",-10.0],["<0x02>",-10.0],["<0x03>",-10.0],["<0x04>",-10.0],["<0x05>",-10.0],["<0x06>",-10.0],["<0x07>",-10.0],["<0x08>",-10.0],["<0x09>",-10.0],["<0x0A>",-10.0],["<0x0B>",-10.0],["<0x0C>",-10.0],["<0x0D>",-10.0],["<0x0E>",-10.0],["<0x0F>",-10.0],["<0x10>",-10.0],["<0x11>",-10.0],["<0x12>",-10.0],["<0x13>",-10.0],["<0x14>",-10.0],["<0x15>",-10.0],["<0x16>",-10.0],["<0x17>",-10.0],["<0x18>",-10.0],["<0x19>",-10.0],["<0x1A>",-10.0],["<0x1B>",-10.0],["<0x1C>",-10.0],["<0x1D>",-10.0],["<0x1E>",-10.0],["<0x1F>",-10.0],["<0x20>",-10.0],["<0x21>",-10.0],["<0x22>",-10.0],["<0x23>",-10.0],["<0x24>",-10.0],["<0x25>",-10.0],["<0x26>",-10.0],["<0x27>",-10.0],["<0x28>",-10.0],["<0x29>",-10.0],["<0x2A>",-10.0],["<0x2B>",-10.0],["<0x2C>",-10.0],["<0x2D>",-10.0],["<0x2E>",-10.0],["<0x2F>",-10.0],["<0x30>",-10.0],["<0x31>",-10.0],["<0x32>",-10.0],["<0x33>",-10.0],["<0x34>",-10.0],["<0x35>",-10.0],["<0x36>",-10.0],["<0x37>",-10.0],["<0x38>",-10.0],["<0x39>",-10.0],["<0x3A>",-10.0],["<0x3B>",-10.0],["<0x3C>",-10.0],["<0x3D>",-10.0],["<0x3E>",-10.0],["<0x3F>",-10.0],["<0x40>",-10.0],["<0x41>",-10.0],["<0x42>",-10.0],["<0x43>",-10.0],["<0x44>",-10.0],["<0x45>",-10.0],["<0x46>",-10.0],["<0x47>",-10.0],["<0x48>",-10.0],["<0x49>",-10.0],["<0x4A>",-10.0],["<0x4B>",-10.0],["<0x4C>",-10.0],["<0x4D>",-10.0],["<0x4E>",-10.0],["<0x4F>",-10.0],["<0x50>",-10.0],["<0x51>",-10.0],["<0x52>",-10.0],["<0x53>",-10.0],["<0x54>",-10.0],["<0x55>",-10.0],["<0x56>",-10.0],["<0x57>",-10.0],["<0x58>",-10.0],["<0x59>",-10.0],["<0x5A>",-10.0],["<0x5B>",-10.0],["<0x5C>",-10.0],["<0x5D>",-10.0],["<0x5E>",-10.0],["<0x5F>",-10.0],["<0x60>",-10.0],["<0x61>",-10.0],["<0x62>",-10.0],["<0x63>",-10.0],["<0x64>",-10.0],["<0x65>",-10.0],["<0x66>",-10.0],["<0x67>",-10.0],["<0x68>",-10.0],["<0x69>",-10.0],["<0x6A>",-10.0],["<0x6B>",-10.0],["<0x6C>",-10.0],["<0x6D>",-10.0],["<0x6E>",-10.0],["<0x6F>",-10.0],["<0x70>",-10.0],["<0x71>",-10.0],["<0x72>",-10.0],["<0x73>",-10.0],["<0x74>",-10.0],["<0x75>",-10.0],["<0x76>",-10.0],["<0x77>",-10.0],["<0x78>",-10.0],["<0x79>",-10.0],["<0x7A>",-10.0],["<0x7B>",-10.0],["<0x7C>",-10.0],["<0x7D>",-10.0],["<0x7E>",-10.0],["<0x7F>",-10.0],["<0x80>",-10.0],["<0x81>",-10.0],["<0x82>",-10.0],["<0x83>",-10.0],["<0x84>",-10.0],["<0x85>",-10.0],["<0x86>",-10.0],["<0x87>",-10.0],["<0x88>",-10.0],["<0x89>",-10.0],["<0x8A>",-10.0],["<0x8B>",-10.0],["<0x8C>",-10.0],["<0x8D>",-10.0],["<0x8E>",-10.0],["<0x8F>",-10.0],["<0x90>",-10.0],["<0x91>",-10.0],["<0x92>",-10.0],["<0x93>",-10.0],["<0x94>",-10.0],["<0x95>",-10.0],["<0x96>",-10.0],["<0x97>",-10.0],["<0x98>",-10.0],["<0x99>",-10.0],["<0x9A>",-10.0],["<0x9B>",-10.0],["<0x9C>",-10.0],["<0x9D>",-10.0],["<0x9E>",-10.0],["<0x9F>",-10.0],["<0xA0>",-10.0],["<0xA1>",-10.0],["<0xA2>",-10.0],["<0xA3>",-10.0],["<0xA4>",-10.0],["<0xA5>",-10.0],["<0xA6>",-10.0],["<0xA7>",-10.0],["<0xA8>",-10.0],["<0xA9>",-10.0],["<0xAA>",-10.0],["<0xAB>",-10.0],["<0xAC>",-10.0],["<0xAD>",-10.0],["<0xAE>",-10.0],["<0xAF>",-10.0],["<0xB0>",-10.0],["<0xB1>",-10.0],["<0xB2>",-10.0],["<0xB3>",-10.0],["<0xB4>",-10.0],["<0xB5>",-10.0],["<0xB6>",-10.0],["<0xB7>",-10.0],["<0xB8>",-10.0],["<0xB9>",-10.0],["<0xBA>",-10.0],["<0xBB>",-10.0],["<0xBC>",-10.0],["<0xBD>",-10.0],["<0xBE>",-10.0],["<0xBF>",-10.0],["<0xC0>",-10.0],["<0xC1>",-10.0],["<0xC2>",-10.0],["<0xC3>",-10.0],["<0xC4>",-10.0],["<0xC5>",-10.0],["<0xC6>",-10.0],["<0xC7>",-10.0],["<0xC8>",-10.0],["<0xC9>",-10.0],["<0xCA>",-10.0],["<0xCB>",-10.0],["<0xCC>",-10.0],["<0xCD>",-10.0],["<0xCE>",-10.0],["<0xCF>",-10.0],["<0xD0>",-10.0],["<0xD1>",-10.0],["<0xD2>",-10.0],["<0xD3>",-10.0],["<0xD4>",-10.0],["<0xD5>",-10.0],["<0xD6>",-10.0],["<0xD7>",-10.0],["<0xD8>",-10.0],["<0xD9>",-10.0],["<0xDA>",-10.0],["<0xDB>",-10.0],["<0xDC>",-10.0],["<0xDD>",-10.0],["<0xDE>",-10.0],["<0xDF>",-10.0],["<0xE0>",-10.0],["<0xE1>",-10.0],["<0xE2>",-10.0],["<0xE3>",-10.0],["<0xE4>",-10.0],["<0xE5>",-10.0],["<0xE6>",-10.0],["<0xE7>",-10.0],["<0xE8>",-10.0],["<0xE9>",-10.0],["<0xEA>",-10.0],["<0xEB>",-10.0],["<0xEC>",-10.0],["<0xED>",-10.0],["<0xEE>",-10.0],["<0xEF>",-10.0],["<0xF0>",-10.0],["<0xF1>",-10.0],["<0xF2>",-10.0],["<0xF3>",-10.0],["<0xF4>",-10.0],["<0xF5>",-10.0],["<0xF6>",-10.0],["<0xF7>",-10.0],["<0xF8>",-10.0],["<0xF9>",-10.0],["<0xFA>",-10.0],["<0xFB>",-10.0],["<0xFC>",-10.0],["<0xFD>",-10.0],["<0xFE>",-10.0],["<0xFF>",-10.0]]},"decoder":{"type":"Sequence","decoders":[{"type":"Metaspace","replacement":"▁","prepend_scheme":"always","split":true},{"type":"ByteFallback"}]}},"input":"hello wé","special":true,"expected":{"ids":[4,9,208,182],"tokens":["▁hello","▁w","<0xC3>","<0xA9>"],"type_ids":[0,0,0,0],"offsets":[[0,5],[5,7],[7,8],[7,8]],"decoded":"hello wé"}},
{"name":"wordlevel","tokenizer":{"normalizer":{"type":"Lowercase"},"pre_tokenizer":{"type":"Whitespace"},"model":{"type":"WordLevel","vocab":{"<unk>":0,"hello":1,"world":2,"!":3},"unk_token":"<unk>"}},"input":"Hello World !! foo","special":true,"expected":{"ids":[1,2,0,0],"tokens":["hello","world","<unk>","<unk>"],"type_ids":[0,0,0,0],"offsets":[[0,5],[6,11],[12,14],[15,18]],"decoded":"hello world <unk> <unk>"}},
{"name":"roberta","tokenizer":{"normalizer":null,"pre_tokenizer":{"type":"ByteLevel","add_prefix_space":true,"trim_offsets":true,"use_regex":true},"model":{"type":"BPE","vocab":{"<s>":0,"</s>":1,"<unk>":2,"Ġ":3,"h":4,"i":5,"Ġh":6,"Ġhi":7,"t":8,"e":9,"r":10,"Ġt":11,"Ġth":12,"Ġthe":13,"Ġther":14,"Ġthere":15,"<mask>":16},"merges":["Ġ h","Ġh i","Ġ t","Ġt h","Ġth e","Ġthe r","Ġther e"],"unk_token":"<unk>"},"post_processor":{"type":"RobertaProcessing","sep":["</s>",1],"cls":["<s>",0],"trim_offsets":true,"add_prefix_space":true},"decoder":{"type":"ByteLevel","add_prefix_space":true,"trim_offsets":true,"use_regex":true},"added_tokens":[{"id":16,"content":"<mask>","single_word":false,"lstrip":true,"rstrip":false,"normalized":false,"special":true},{"id":0,"content":"<s>","single_word":false,"lstrip":false,"rstrip":false,"normalized":true,"special":true},{"id":1,"content":"</s>","single_word":false,"lstrip":false,"rstrip":false,"normalized":true,"special":true}]},"input":"hi there <mask> hi","special":true,"expected":{"ids":[0,7,15,16,7,1],"tokens":["<s>","Ġhi","Ġthere"," <mask>","Ġhi","</s>"],"type_ids":[0,0,0,0,0,0],"offsets":[[0,0],[0,2],[3,8],[9,15],[16,18],[0,0]],"decoded":"<s> hi there<mask> hi</s>"}},
{"name":"roberta_pair","tokenizer":{"normalizer":null,"pre_tokenizer":{"type":"ByteLevel","add_prefix_space":true,"trim_offsets":true,"use_regex":true},"model":{"type":"BPE","vocab":{"<s>":0,"</s>":1,"<unk>":2,"Ġ":3,"h":4,"i":5,"Ġh":6,"Ġhi":7,"t":8,"e":9,"r":10,"Ġt":11,"Ġth":12,"Ġthe":13,"Ġther":14,"Ġthere":15,"<mask>":16},"merges":["Ġ h","Ġh i","Ġ t","Ġt h","Ġth e","Ġthe r","Ġther e"],"unk_token":"<unk>"},"post_processor":{"type":"RobertaProcessing","sep":["</s>",1],"cls":["<s>",0],"trim_offsets":true,"add_prefix_space":true},"decoder":{"type":"ByteLevel","add_prefix_space":true,"trim_offsets":true,"use_regex":true},"added_tokens":[{"id":16,"content":"<mask>","single_word":false,"lstrip":true,"rstrip":false,"normalized":false,"special":true},{"id":0,"content":"<s>","single_word":false,"lstrip":false,"rstrip":false,"normalized":true,"special":true},{"id":1,"content":"</s>","single_word":false,"lstrip":false,"rstrip":false,"normalized":true,"special":true}]},"input":"hi","pair":"there","special":true,"expected":{"ids":[0,7,1,1,15,1],"tokens":["<s>","Ġhi","</s>","</s>","Ġthere","</s>"],"type_ids":[0,0,0,0,0,0],"offsets":[[0,0],[0,2],[0,0],[0,0],[0,5],[0,0]],"decoded":"<s> hi</s></s> there</s>"}},
{"name":"bpe_prefix_suffix","tokenizer":{"model":{"type":"BPE","vocab":{"<unk>":0,"a":1,"##b":2,"##c":3,"a##b":4,"ab":5,"##c</w>":6,"c</w>":7,"abc</w>":8,"abc":9},"merges":[["a","##b"],["ab","##c</w>"]],"continuing_subword_prefix":"##","end_of_word_suffix":"</w>","unk_token":"<unk>","fuse_unk":true},"pre_tokenizer":{"type":"WhitespaceSplit"},"decoder":{"type":"BPEDecoder","suffix":"</w>"}},"input":"abc ab xyz a","special":true,"expected":{"ids":[8,1,0,0,0],"tokens":["abc</w>","a","<unk>","<unk>","<unk>"],"type_ids":[0,0,0,0,0],"offsets":[[0,3],[4,5],[5,6],[7,10],[11,12]],"decoded":"abc a<unk><unk><unk>"}},
{"name":"bpe_ignore_merges","tokenizer":{"model":{"type":"BPE","vocab":{"<unk>":0,"a":1,"b":2,"ab":3,"abab":4},"merges":["a b"],"ignore_merges":true,"unk_token":"<unk>","fuse_unk":false},"pre_tokenizer":{"type":"WhitespaceSplit"}},"input":"abab ab aab xx","special":true,"expected":{"ids":[4,3,1,3,0,0],"tokens":["abab","ab","a","ab","<unk>","<unk>"],"type_ids":[0,0,0,0,0,0],"offsets":[[0,4],[5,7],[8,9],[9,11],[12,13],[13,14]],"decoded":"abab ab a ab <unk> <unk>"}},
{"name":"added_tokens","tokenizer":{"model":{"type":"WordLevel","vocab":{"<unk>":0,"hello":1,"world":2},"unk_token":"<unk>"},"pre_tokenizer":{"type":"WhitespaceSplit"},"normalizer":{"type":"Lowercase"},"added_tokens":[{"id":10,"content":"[X]","single_word":false,"lstrip":true,"rstrip":true,"normalized":false,"special":true},{"id":11,"content":"cat","single_word":true,"lstrip":false,"rstrip":false,"normalized":true,"special":false},{"id":12,"content":"[XY]","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":false}]},"input":"hello  [X]  world cat concat [XY] CAT","special":true,"expected":{"ids":[1,3,2,4,0,5,4],"tokens":["hello","  [X]  ","world","cat","<unk>","[XY]","cat"],"type_ids":[0,0,0,0,0,0,0],"offsets":[[0,5],[5,12],[12,17],[18,21],[22,28],[29,33],[34,37]],"decoded":"hello [X] world cat <unk> [XY] cat"}},
{"name":"template_pair","tokenizer":{"model":{"type":"WordLevel","vocab":{"<unk>":0,"a":1,"b":2,"[BOS]":3,"[EOS]":4},"unk_token":"<unk>"},"pre_tokenizer":{"type":"WhitespaceSplit"},"post_processor":{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"[BOS]","type_id":0}},{"Sequence":{"id":"A","type_id":0}},{"SpecialToken":{"id":"[EOS]","type_id":0}}],"pair":[{"SpecialToken":{"id":"[BOS]","type_id":0}},{"Sequence":{"id":"A","type_id":0}},{"SpecialToken":{"id":"[EOS]","type_id":0}},{"Sequence":{"id":"B","type_id":1}},{"SpecialToken":{"id":"[EOS]","type_id":1}}],"special_tokens":{"[BOS]":{"id":"[BOS]","ids":[3],"tokens":["[BOS]"]},"[EOS]":{"id":"[EOS]","ids":[4],"tokens":["[EOS]"]}}}},"input":"a b","pair":"b a","special":true,"expected":{"ids":[3,1,2,4,2,1,4],"tokens":["[BOS]","a","b","[EOS]","b","a","[EOS]"],"type_ids":[0,0,0,0,1,1,1],"offsets":[[0,0],[0,1],[2,3],[0,0],[0,1],[2,3],[0,0]],"decoded":"[BOS] a b [EOS] b a [EOS]"}},
{"name":"template_pair_nospecial","tokenizer":{"model":{"type":"WordLevel","vocab":{"<unk>":0,"a":1,"b":2,"[BOS]":3,"[EOS]":4},"unk_token":"<unk>"},"pre_tokenizer":{"type":"WhitespaceSplit"},"post_processor":{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"[BOS]","type_id":0}},{"Sequence":{"id":"A","type_id":0}},{"SpecialToken":{"id":"[EOS]","type_id":0}}],"pair":[{"SpecialToken":{"id":"[BOS]","type_id":0}},{"Sequence":{"id":"A","type_id":0}},{"SpecialToken":{"id":"[EOS]","type_id":0}},{"Sequence":{"id":"B","type_id":1}},{"SpecialToken":{"id":"[EOS]","type_id":1}}],"special_tokens":{"[BOS]":{"id":"[BOS]","ids":[3],"tokens":["[BOS]"]},"[EOS]":{"id":"[EOS]","ids":[4],"tokens":["[EOS]"]}}}},"input":"a b","pair":"b a","special":false,"expected":{"ids":[1,2,2,1],"tokens":["a","b","b","a"],"type_ids":[0,0,1,1],"offsets":[[0,1],[2,3],[0,1],[2,3]],"decoded":"a b b a"}},
{"name":"precompiled","normalizer":{"type":"Precompiled","precompiled_charsmap":"AAQAAAAEAAAAAAAAeQUAAAIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAGEFAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB4CAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAABiAFoA"},"input":"cab xy xyz ax́ á é","expected":"cbb xy xyz bx́ b é"}
]
)json";

const json kBase =
    json::parse(R"({"version": "1.0", "added_tokens": [], "normalizer": null, "pre_tokenizer": null,
  "post_processor": null, "decoder": null,
  "model": {"type": "WordLevel", "vocab": {"<unk>": 0}, "unk_token": "<unk>"}})");

const json& cases() {
  static const json parsed = json::parse(kCases);
  return parsed;
}

bool is_ascii(const std::string& s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

void check_case(const json& c) {
  SCOPED_TRACE(c["name"].get<std::string>());
  const json& expected = c["expected"];
  ortlm::tok::JsonPath at("test", "stage");
  if (c.contains("normalizer")) {
    auto normalizer = ortlm::tok::build_normalizer(c["normalizer"], at);
    ortlm::tok::NormalizedText text;
    text.assign_original(c["input"].get<std::string>(), 0);
    normalizer->normalize(text);
    EXPECT_EQ(text.text, expected.get<std::string>());
    EXPECT_EQ(text.align.size(), text.text.size());
  } else if (c.contains("pre_tokenizer")) {
    auto pre_tokenizer = ortlm::tok::build_pre_tokenizer(c["pre_tokenizer"], at);
    ortlm::tok::PreTokenized p;
    std::string input = c["input"].get<std::string>();
    p.norm.assign_original(input, 0);
    p.splits.push_back({0, static_cast<uint32_t>(input.size()), -1});
    pre_tokenizer->pre_tokenize(p);
    std::vector<std::string> pieces;
    for (const auto& s : p.splits) pieces.emplace_back(p.view(s));
    EXPECT_EQ(pieces, expected.get<std::vector<std::string>>());
  } else if (c.contains("decoder")) {
    json doc = kBase;
    doc["decoder"] = c["decoder"];
    json vocab = json::object();
    const auto tokens = c["tokens"].get<std::vector<std::string>>();
    for (size_t i = 0; i < tokens.size(); ++i) vocab[tokens[i]] = i;
    doc["model"] = {{"type", "WordLevel"}, {"vocab", vocab}, {"unk_token", tokens[0]}};
    auto tokenizer = ortlm::Tokenizer::from_json(doc.dump());
    EXPECT_EQ(tokenizer.decode(c["ids"].get<std::vector<int32_t>>()), expected.get<std::string>());
  } else {
    json doc = kBase;
    doc.update(c["tokenizer"]);
    auto tokenizer = ortlm::Tokenizer::from_json(doc.dump());
    std::string input = c["input"].get<std::string>();
    bool special = c["special"].get<bool>();
    ortlm::Encoding e = c.contains("pair")
                            ? tokenizer.encode_pair(input, c["pair"].get<std::string>(), special)
                            : tokenizer.encode(input, special);
    EXPECT_EQ(e.ids, expected["ids"].get<std::vector<int32_t>>());
    EXPECT_EQ(e.tokens, expected["tokens"].get<std::vector<std::string>>());
    EXPECT_EQ(e.type_ids, expected["type_ids"].get<std::vector<int32_t>>());
    if (is_ascii(input)) {  // the reference reports offsets in characters, ortlm in bytes
      std::vector<std::pair<size_t, size_t>> offsets;
      for (const auto& o : expected["offsets"]) offsets.emplace_back(o[0].get<size_t>(), o[1].get<size_t>());
      EXPECT_EQ(e.offsets, offsets);
    }
    EXPECT_EQ(tokenizer.decode(e.ids), expected["decoded"].get<std::string>());
    if (!c.contains("pair")) {
      EXPECT_EQ(tokenizer.encode_ids(input, special), e.ids);
    }
  }
}

TEST(TokenizerStages, MatchTheReference) {
  ASSERT_GT(cases().size(), 40u);
  for (const json& c : cases()) check_case(c);
}

}  // namespace
