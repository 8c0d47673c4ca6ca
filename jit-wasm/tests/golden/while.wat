(module
  (type (;0;) (func (param i32 i32) (result i32)))
  (type (;1;) (func (param i64) (result f64)))
  (type (;2;) (func (param i64 i64) (result i64)))
  (type (;3;) (func (param i64 f64) (result f64)))
  (import "env" "memory" (memory (;0;) 1))
  (import "env" "table" (table (;0;) 1 funcref))
  (export "trace" (func $trace_1))
  (func $trace_1 (;0;) (type 0) (param i32 i32) (result i32)
    (local i64 i64 i32 i32 f64 f64 f64 f64 f64 f64)
    local.get 0
    i64.load
    local.set 2
    block ;; label = @1
      block ;; label = @2
        block ;; label = @3
          block ;; label = @4
            block ;; label = @5
              block ;; label = @6
                block ;; label = @7
                  block ;; label = @8
                    block ;; label = @9
                      block ;; label = @10
                        block ;; label = @11
                          local.get 1
                          i64.load
                          local.set 3
                          local.get 3
                          i64.const -2111062325329920
                          i64.ge_u
                          br_if 0 (;@11;)
                          local.get 3
                          f64.reinterpret_i64
                          local.set 6
                          local.get 6
                          f64.const 0x1.8p+1 (;=3;)
                          f64.add
                          local.set 7
                          local.get 1
                          i64.load offset=8
                          local.set 3
                          local.get 3
                          i64.const -2111062325329920
                          i64.ge_u
                          br_if 1 (;@10;)
                          local.get 3
                          f64.reinterpret_i64
                          local.set 8
                          local.get 8
                          f64.const 0x1p+0 (;=1;)
                          f64.add
                          local.set 9
                          local.get 2
                          i64.const 1
                          i64.lt_s
                          br_if 3 (;@8;)
                          local.get 2
                          i64.const 1
                          i64.sub
                          local.set 2
                          local.get 7
                          f64.const 0x1.f4p+9 (;=1000;)
                          f64.lt
                          i32.eqz
                          br_if 4 (;@7;)
                          local.get 2
                          i64.const 1
                          i64.lt_s
                          br_if 6 (;@5;)
                          local.get 2
                          i64.const 1
                          i64.sub
                          local.set 2
                          loop ;; label = @12
                            local.get 7
                            f64.const 0x1.8p+1 (;=3;)
                            f64.add
                            local.set 10
                            local.get 9
                            f64.const 0x1p+0 (;=1;)
                            f64.add
                            local.set 11
                            local.get 2
                            i64.const 1
                            i64.lt_s
                            br_if 9 (;@3;)
                            local.get 2
                            i64.const 1
                            i64.sub
                            local.set 2
                            local.get 10
                            f64.const 0x1.f4p+9 (;=1000;)
                            f64.lt
                            i32.eqz
                            br_if 10 (;@2;)
                            local.get 2
                            i64.const 1
                            i64.lt_s
                            br_if 11 (;@1;)
                            local.get 2
                            i64.const 1
                            i64.sub
                            local.set 2
                            local.get 10
                            local.get 11
                            local.set 9
                            local.set 7
                            br 0 (;@12;)
                          end
                          unreachable
                        end
                        local.get 0
                        local.get 2
                        i64.store
                        i32.const 65536
                        i32.load
                        local.tee 4
                        if ;; label = @11
                          local.get 0
                          local.get 1
                          local.get 4
                          return_call_indirect (type 0)
                        end
                        i32.const 65536
                        return
                      end
                      local.get 1
                      local.get 7
                      i64.reinterpret_f64
                      i64.store
                      local.get 0
                      local.get 2
                      i64.store
                      i32.const 65540
                      i32.load
                      local.tee 4
                      if ;; label = @10
                        local.get 0
                        local.get 1
                        local.get 4
                        return_call_indirect (type 0)
                      end
                      i32.const 65537
                      return
                    end
                    local.get 1
                    local.get 7
                    i64.reinterpret_f64
                    i64.store
                    local.get 1
                    local.get 9
                    i64.reinterpret_f64
                    i64.store offset=8
                    local.get 0
                    local.get 2
                    i64.store
                    i32.const 65544
                    i32.load
                    local.tee 4
                    if ;; label = @9
                      local.get 0
                      local.get 1
                      local.get 4
                      return_call_indirect (type 0)
                    end
                    i32.const 65538
                    return
                  end
                  local.get 1
                  local.get 7
                  i64.reinterpret_f64
                  i64.store
                  local.get 1
                  local.get 9
                  i64.reinterpret_f64
                  i64.store offset=8
                  local.get 0
                  local.get 2
                  i64.store
                  i32.const 65548
                  i32.load
                  local.tee 4
                  if ;; label = @8
                    local.get 0
                    local.get 1
                    local.get 4
                    return_call_indirect (type 0)
                  end
                  i32.const 65539
                  return
                end
                local.get 1
                local.get 7
                i64.reinterpret_f64
                i64.store
                local.get 1
                local.get 9
                i64.reinterpret_f64
                i64.store offset=8
                local.get 1
                i64.const 4652007308841189376
                i64.store offset=16
                local.get 0
                local.get 2
                i64.store
                i32.const 65552
                i32.load
                local.tee 4
                if ;; label = @7
                  local.get 0
                  local.get 1
                  local.get 4
                  return_call_indirect (type 0)
                end
                i32.const 65540
                return
              end
              local.get 1
              local.get 7
              i64.reinterpret_f64
              i64.store
              local.get 1
              local.get 9
              i64.reinterpret_f64
              i64.store offset=8
              local.get 1
              i64.const 4652007308841189376
              i64.store offset=16
              local.get 0
              local.get 2
              i64.store
              i32.const 65556
              i32.load
              local.tee 4
              if ;; label = @6
                local.get 0
                local.get 1
                local.get 4
                return_call_indirect (type 0)
              end
              i32.const 65541
              return
            end
            local.get 1
            local.get 7
            i64.reinterpret_f64
            i64.store
            local.get 1
            local.get 9
            i64.reinterpret_f64
            i64.store offset=8
            local.get 1
            i64.const 4652007308841189376
            i64.store offset=16
            local.get 0
            local.get 2
            i64.store
            i32.const 65560
            i32.load
            local.tee 4
            if ;; label = @5
              local.get 0
              local.get 1
              local.get 4
              return_call_indirect (type 0)
            end
            i32.const 65542
            return
          end
          local.get 1
          local.get 7
          i64.reinterpret_f64
          i64.store
          local.get 1
          local.get 9
          i64.reinterpret_f64
          i64.store offset=8
          local.get 1
          i64.const 4652007308841189376
          i64.store offset=16
          local.get 0
          local.get 2
          i64.store
          i32.const 65564
          i32.load
          local.tee 4
          if ;; label = @4
            local.get 0
            local.get 1
            local.get 4
            return_call_indirect (type 0)
          end
          i32.const 65543
          return
        end
        local.get 1
        local.get 10
        i64.reinterpret_f64
        i64.store
        local.get 1
        local.get 11
        i64.reinterpret_f64
        i64.store offset=8
        local.get 1
        i64.const 4652007308841189376
        i64.store offset=16
        local.get 0
        local.get 2
        i64.store
        i32.const 65568
        i32.load
        local.tee 4
        if ;; label = @3
          local.get 0
          local.get 1
          local.get 4
          return_call_indirect (type 0)
        end
        i32.const 65544
        return
      end
      local.get 1
      local.get 10
      i64.reinterpret_f64
      i64.store
      local.get 1
      local.get 11
      i64.reinterpret_f64
      i64.store offset=8
      local.get 1
      i64.const 4652007308841189376
      i64.store offset=16
      local.get 0
      local.get 2
      i64.store
      i32.const 65572
      i32.load
      local.tee 4
      if ;; label = @2
        local.get 0
        local.get 1
        local.get 4
        return_call_indirect (type 0)
      end
      i32.const 65545
      return
    end
    local.get 1
    local.get 10
    i64.reinterpret_f64
    i64.store
    local.get 1
    local.get 11
    i64.reinterpret_f64
    i64.store offset=8
    local.get 1
    i64.const 4652007308841189376
    i64.store offset=16
    local.get 0
    local.get 2
    i64.store
    i32.const 65576
    i32.load
    local.tee 4
    if ;; label = @1
      local.get 0
      local.get 1
      local.get 4
      return_call_indirect (type 0)
    end
    i32.const 65546
    return
  )
)
