package kustomer

import (
	"sync"
	"sync/atomic"
	"testing"
)

func TestMemoComputesOncePerKey(t *testing.T) {
	var m Memo
	var calls atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := "customer"
			if i%2 == 1 {
				key = "agent"
			}
			if got := m.Do(key, func() any { calls.Add(1); return key + "!" }); got != key+"!" {
				t.Errorf("Do(%q) = %v", key, got)
			}
		}()
	}
	wg.Wait()
	if n := calls.Load(); n != 2 {
		t.Errorf("%d computations for 2 keys", n)
	}
	var none *Memo
	if got := none.Do("k", func() any { return 1 }); got != 1 {
		t.Errorf("nil Memo: %v", got)
	}
}
