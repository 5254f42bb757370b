package logs

import (
	"testing"
	"time"
)

func TestParseCRI(t *testing.T) {
	ts := "2024-05-01T10:00:00.123456789Z"
	want, _ := time.Parse(time.RFC3339Nano, ts)
	tests := []struct {
		name    string
		in      string
		stream  string
		partial bool
		text    string
		wantErr bool
	}{
		{name: "full stdout", in: ts + " stdout F hello world", stream: "stdout", text: "hello world"},
		{name: "partial stderr", in: ts + " stderr P part", stream: "stderr", partial: true, text: "part"},
		{name: "empty line", in: ts + " stdout F ", stream: "stdout"},
		{name: "empty line without space", in: ts + " stdout F", stream: "stdout"},
		{name: "text keeps spaces", in: ts + " stdout F  a  b ", stream: "stdout", text: " a  b "},
		{name: "tag with flags", in: ts + " stdout F:x y", stream: "stdout", text: "y"},
		{name: "no stream", in: ts, wantErr: true},
		{name: "bad time", in: "yesterday stdout F x", wantErr: true},
		{name: "bad stream", in: ts + " stdin F x", wantErr: true},
		{name: "bad tag", in: ts + " stdout X x", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, stream, partial, text, err := ParseCRI([]byte(tt.in))
			if tt.wantErr {
				if err == nil {
					t.Fatalf("ParseCRI(%q): no error", tt.in)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !got.Equal(want) || stream != tt.stream || partial != tt.partial || string(text) != tt.text {
				t.Errorf("ParseCRI(%q) = %v %q %v %q", tt.in, got, stream, partial, text)
			}
		})
	}
}

func TestDecoderJoinsPartialsPerStream(t *testing.T) {
	d := newDecoder()
	in := []string{
		"2024-05-01T10:00:01Z stdout P hel",
		"2024-05-01T10:00:02Z stderr F oops",
		"2024-05-01T10:00:03Z stdout P lo ",
		"2024-05-01T10:00:04Z stdout F world",
		"2024-05-01T10:00:05Z stderr P cut",
	}
	var got []Line
	for _, raw := range in {
		l, ok, err := d.feed([]byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			got = append(got, l)
		}
	}
	got = append(got, d.flush()...)
	want := []Line{
		{Time: at("2024-05-01T10:00:02Z"), Stream: "stderr", Text: "oops"},
		{Time: at("2024-05-01T10:00:01Z"), Stream: "stdout", Text: "hello world"},
		{Time: at("2024-05-01T10:00:05Z"), Stream: "stderr", Text: "cut"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if !got[i].Time.Equal(want[i].Time) || got[i].Stream != want[i].Stream || got[i].Text != want[i].Text {
			t.Errorf("line %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}
